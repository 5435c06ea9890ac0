//! Canonical commands of the suggestion-dictionary writes: each is its own command (see
//! `ir::ops::suggest`), the score in its shortest round-trip form.

use bytes::Bytes;

use super::Argv;
use crate::ir::ops::SuggestOp;

pub(super) fn command(op: &SuggestOp) -> Option<Vec<Bytes>> {
    let mut a;
    match op {
        SuggestOp::Add {
            key,
            text,
            score,
            incr,
            payload,
        } => {
            a = Argv::new("FT.SUGADD");
            a.arg(key).arg(text);
            match score {
                Some(s) => a.float(*s),
                // Always fails, so never logged; a non-number keeps it failing on replay.
                None => a.kw("invalid"),
            };
            if *incr {
                a.kw("INCR");
            }
            if let Some(p) = payload {
                a.kw("PAYLOAD").arg(p);
            }
        }
        SuggestOp::Del { key, text } => {
            a = Argv::new("FT.SUGDEL");
            a.arg(key).arg(text);
        }
        SuggestOp::Get { .. } | SuggestOp::Len { .. } => return None,
    }
    a.done()
}
