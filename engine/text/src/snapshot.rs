//! Snapshot codec of a `TextIndex` (format version 1, little-endian; byte layout in
//! SPEC.md §9.5). Encoding writes only live documents (pending deletes are skipped), terms
//! in lexicographic order, and drops terms with no live posting. Decoding validates every
//! byte and never panics; errors carry the offset. The forward term lists, per-field total
//! lengths and the fst are rebuilt on load.

use hashbrown::HashMap;
use roaring::RoaringBitmap;

use crate::analyzer::{Analyzer, Language, StopWords};
use crate::codec::{Reader, put_f64, put_str, put_u16, put_u32, put_varint};
use crate::error::DecodeError;
use crate::index::{DocInfo, FieldSpec, MAX_FIELDS, TextIndex};
use crate::postings::PostingList;
use crate::term_dict::TermDict;

pub const FORMAT_VERSION: u16 = 1;

/// Decoding rejects doc ids above `MAX_ID_SLACK + 16 × doc count` (the dense per-doc norm
/// table is sized by the largest id; this bounds what a crafted payload can allocate).
pub const MAX_ID_SLACK: usize = 1 << 20;

impl TextIndex {
    /// Appends the snapshot payload to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, FORMAT_VERSION);
        out.push(self.analyzer.language().code());
        match self.analyzer.stopwords() {
            StopWords::Default => out.push(0),
            StopWords::None => out.push(1),
            StopWords::Custom(list) => {
                out.push(2);
                put_u32(out, list.len() as u32);
                for w in list {
                    put_str(out, w);
                }
            }
        }
        out.push(self.fields.len() as u8);
        for f in &self.fields {
            put_str(out, &f.name);
            put_f64(out, f.weight);
            out.push(u8::from(f.nostem));
        }
        put_u32(out, self.live.len() as u32);
        for doc in self.live.iter() {
            let Some(info) = self.docs.get(&doc) else {
                continue;
            };
            put_u32(out, doc);
            put_f64(out, info.score);
            put_varint(out, u64::from(info.max_freq));
            for f in 0..self.fields.len() {
                put_varint(out, u64::from(info.lens.get(f).copied().unwrap_or(0)));
            }
        }
        let count_at = out.len();
        put_u32(out, 0);
        let mut nterms = 0u32;
        for id in self.dict.sorted_ids() {
            let Some(pl) = self.postings.get(id as usize) else {
                continue;
            };
            let live: Vec<usize> = (0..pl.len())
                .filter(|&i| !self.deleted.contains(pl.docs()[i]))
                .collect();
            if live.is_empty() {
                continue;
            }
            nterms += 1;
            put_str(out, self.dict.term(id));
            put_varint(out, live.len() as u64);
            let mut prev = 0u32;
            for (k, &i) in live.iter().enumerate() {
                let d = pl.docs()[i];
                put_varint(out, u64::from(if k == 0 { d } else { d - prev }));
                prev = d;
                let e = pl.entry(i);
                put_varint(out, e.len() as u64);
                out.extend_from_slice(e);
            }
        }
        out[count_at..count_at + 4].copy_from_slice(&nterms.to_le_bytes());
    }

    /// Decodes a payload produced by [`TextIndex::encode`].
    pub fn decode(buf: &[u8]) -> Result<TextIndex, DecodeError> {
        let mut r = Reader::new(buf);
        if r.u16()? != FORMAT_VERSION {
            return Err(DecodeError {
                offset: 0,
                what: "unsupported format version",
            });
        }
        let lang = Language::from_code(r.u8()?).ok_or(DecodeError {
            offset: 2,
            what: "bad language",
        })?;
        let stop = match r.u8()? {
            0 => StopWords::Default,
            1 => StopWords::None,
            2 => {
                let n = r.u32()? as usize;
                if n > r.remaining() / 4 {
                    return Err(r.err("stop-word count exceeds payload"));
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.str()?.to_string());
                }
                StopWords::Custom(v)
            }
            _ => {
                return Err(DecodeError {
                    offset: 3,
                    what: "bad stop-word mode",
                });
            }
        };
        let nfields = r.u8()? as usize;
        if nfields > MAX_FIELDS {
            return Err(DecodeError {
                offset: r.offset() - 1,
                what: "too many fields",
            });
        }
        let mut fields = Vec::with_capacity(nfields);
        for _ in 0..nfields {
            let at = r.offset();
            let name = r.str()?.to_string();
            let weight = r.f64()?;
            let flags = r.u8()?;
            if flags > 1 {
                return Err(r.err("bad field flags"));
            }
            fields.push(FieldSpec {
                name,
                weight,
                nostem: flags == 1,
            });
            if fields.len() > 1
                && fields[..fields.len() - 1]
                    .iter()
                    .any(|f| f.name == fields[fields.len() - 1].name)
                || !(weight.is_finite() && weight >= 0.0)
            {
                return Err(DecodeError {
                    offset: at,
                    what: "bad field",
                });
            }
        }
        let mut idx =
            TextIndex::new(Analyzer::new(lang, stop), fields).map_err(|_| DecodeError {
                offset: 4,
                what: "bad schema",
            })?;
        let ndocs = r.u32()? as usize;
        // Each doc record takes at least 13 + nfields bytes: bound allocations by the payload.
        if ndocs > r.remaining() / (13 + nfields) {
            return Err(r.err("doc count exceeds payload"));
        }
        let mut last: Option<u32> = None;
        let mut terms_of: HashMap<u32, Vec<u32>> = HashMap::with_capacity(ndocs);
        for _ in 0..ndocs {
            let at = r.offset();
            let doc = r.u32()?;
            if last.is_some_and(|l| l >= doc) {
                return Err(DecodeError {
                    offset: at,
                    what: "doc ids not increasing",
                });
            }
            last = Some(doc);
            let score = r.f64()?;
            if !score.is_finite() {
                return Err(DecodeError {
                    offset: at + 4,
                    what: "bad doc score",
                });
            }
            let max_freq = r.varint_u32()?;
            let mut lens = Vec::with_capacity(nfields);
            for f in 0..nfields {
                let l = r.varint_u32()?;
                idx.total_len[f] += u64::from(l);
                lens.push(l);
            }
            let total = lens.iter().fold(0u32, |a, &l| a.saturating_add(l));
            if doc as usize > MAX_ID_SLACK + 16 * ndocs {
                return Err(DecodeError {
                    offset: at,
                    what: "doc ids too sparse",
                });
            }
            idx.set_norm(doc, total, score);
            idx.docs.insert(
                doc,
                DocInfo {
                    total,
                    lens: lens.into(),
                    max_freq,
                    score,
                    terms: Box::new([]),
                },
            );
            idx.live.insert(doc);
            terms_of.insert(doc, Vec::new());
        }
        let nterms = r.u32()? as usize;
        if nterms > r.remaining() / 7 {
            return Err(r.err("term count exceeds payload"));
        }
        let mut names: Vec<Box<str>> = Vec::with_capacity(nterms);
        let mut postings = Vec::with_capacity(nterms);
        for tid in 0..nterms {
            let at = r.offset();
            let name = r.str()?;
            if name.is_empty() || names.last().is_some_and(|p| **p >= *name) {
                return Err(DecodeError {
                    offset: at,
                    what: "terms not strictly increasing",
                });
            }
            names.push(name.into());
            let at = r.offset();
            let n = r.varint()? as usize;
            if n == 0 || n > r.remaining() / 3 {
                return Err(DecodeError {
                    offset: at,
                    what: "bad posting count",
                });
            }
            let mut pl = PostingList::with_capacity(n, 0);
            let mut doc = 0u32;
            for k in 0..n {
                let at = r.offset();
                let d = r.varint_u32()?;
                if k > 0 && d == 0 {
                    return Err(DecodeError {
                        offset: at,
                        what: "doc ids not increasing",
                    });
                }
                doc = if k == 0 {
                    d
                } else {
                    doc.checked_add(d).ok_or(DecodeError {
                        offset: at,
                        what: "doc id overflow",
                    })?
                };
                let Some(list) = terms_of.get_mut(&doc) else {
                    return Err(DecodeError {
                        offset: at,
                        what: "posting for unknown doc",
                    });
                };
                list.push(tid as u32);
                let len = r.varint()? as usize;
                let start = r.offset();
                let e = r.bytes(len)?;
                validate_entry(e, nfields).map_err(|rel| DecodeError {
                    offset: start + rel,
                    what: "bad posting entry",
                })?;
                // Docs are decoded first, so the doc's length is known (it feeds score bounds).
                let dlen = idx.norms.get(doc as usize).map_or(0, |n| n.0);
                if !pl.push_sorted(doc, e, dlen) {
                    return Err(DecodeError {
                        offset: start,
                        what: "bad postings",
                    });
                }
            }
            postings.push(pl);
        }
        if r.remaining() != 0 {
            return Err(r.err("trailing bytes"));
        }
        idx.dict = TermDict::from_sorted(names).ok_or(DecodeError {
            offset: 0,
            what: "bad dictionary",
        })?;
        idx.postings = postings;
        for (doc, t) in terms_of {
            if let Some(info) = idx.docs.get_mut(&doc) {
                info.terms = t.into();
            }
        }
        idx.deleted = RoaringBitmap::new();
        Ok(idx)
    }
}

/// Checks an entry's structure; on failure returns the offset inside the entry.
fn validate_entry(e: &[u8], nfields: usize) -> Result<(), usize> {
    let mut r = Reader::new(e);
    let n = r.u8().map_err(|x| x.offset)? as usize;
    if n == 0 || n > nfields {
        return Err(0);
    }
    let mut prev_field: Option<u8> = None;
    for _ in 0..n {
        let at = r.offset();
        let f = r.u8().map_err(|x| x.offset)?;
        if f as usize >= nfields || prev_field.is_some_and(|p| p >= f) {
            return Err(at);
        }
        prev_field = Some(f);
        let tf = r.varint_u32().map_err(|x| x.offset)?;
        let nb = r.varint().map_err(|x| x.offset)? as usize;
        let pstart = r.offset();
        let pos = r.bytes(nb).map_err(|x| x.offset)?;
        let mut pr = Reader::new(pos);
        let mut last = 0u32;
        let mut count = 0u32;
        while pr.remaining() > 0 {
            let d = pr.varint_u32().map_err(|x| pstart + x.offset)?;
            if d == 0 {
                return Err(pstart + pr.offset());
            }
            last = last.checked_add(d).ok_or(pstart + pr.offset())?;
            count += 1;
        }
        if count != tf || tf == 0 {
            return Err(at);
        }
    }
    if r.remaining() != 0 {
        return Err(r.offset());
    }
    Ok(())
}
