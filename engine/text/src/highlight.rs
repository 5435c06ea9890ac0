//! HIGHLIGHT and SUMMARIZE over a field's original text. A word matches when its lowercased
//! surface form is a query word, or (stemming on) its stem equals a query word's stem; stop
//! words never match. Output preserves the original text between matches.
//!
//! SUMMARIZE (RediSearch defaults FRAGS 3, LEN 20, SEPARATOR "... "): each match seeds a
//! fragment of `len` words starting `len/2` words before it (clamped to the text); matches
//! already inside the previous fragment do not seed a new one. Fragments are scored
//! (10 × distinct matched words + total matches), the best `frags` are kept and emitted in
//! text order, each followed by the separator. With no match the first `len` words are
//! returned followed by the separator.

use std::ops::Range;

use hashbrown::HashSet;

use crate::analyzer::{Analyzer, lowercase_into, split_words};

/// The query words to highlight, pre-normalized.
#[derive(Debug, Clone, Default)]
pub struct HighlightTerms {
    words: HashSet<String>,
    stems: HashSet<String>,
}

impl HighlightTerms {
    pub fn new(analyzer: &Analyzer, query_words: &[&str], stem: bool) -> HighlightTerms {
        let mut h = HighlightTerms::default();
        let mut buf = String::new();
        for w in query_words {
            lowercase_into(w, &mut buf);
            if buf.is_empty() || analyzer.is_stopword(&buf) {
                continue;
            }
            if stem {
                h.stems.insert(analyzer.stem(&buf).into_owned());
            }
            h.words.insert(buf.clone());
        }
        h
    }
}

/// Options of SUMMARIZE.
#[derive(Debug, Clone)]
pub struct SummarizeOpts<'a> {
    pub frags: usize,
    pub len: usize,
    pub separator: &'a str,
}

impl Default for SummarizeOpts<'_> {
    fn default() -> Self {
        SummarizeOpts {
            frags: 3,
            len: 20,
            separator: "... ",
        }
    }
}

struct Word {
    span: Range<usize>,
    /// Lowercased form when it matched, for the distinct count.
    hit: Option<String>,
}

fn words(analyzer: &Analyzer, text: &str, terms: &HighlightTerms) -> Vec<Word> {
    let mut out = Vec::new();
    let mut buf = String::new();
    split_words(text, |w, span| {
        lowercase_into(w, &mut buf);
        let hit = !analyzer.is_stopword(&buf)
            && (terms.words.contains(&buf)
                || (!terms.stems.is_empty() && terms.stems.contains(analyzer.stem(&buf).as_ref())));
        out.push(Word {
            span,
            hit: hit.then(|| buf.clone()),
        });
    });
    out
}

/// Copies `text[range]` into `out`, wrapping the matched words inside it in tags.
fn emit(
    text: &str,
    ws: &[Word],
    range: Range<usize>,
    tags: Option<(&str, &str)>,
    out: &mut String,
) {
    let mut at = range.start;
    if let Some((open, close)) = tags {
        for w in ws
            .iter()
            .filter(|w| w.hit.is_some() && w.span.start >= range.start && w.span.end <= range.end)
        {
            out.push_str(&text[at..w.span.start]);
            out.push_str(open);
            out.push_str(&text[w.span.clone()]);
            out.push_str(close);
            at = w.span.end;
        }
    }
    out.push_str(&text[at..range.end]);
}

/// HIGHLIGHT: the whole text with every matched word wrapped in `open`/`close`.
pub fn highlight(
    analyzer: &Analyzer,
    text: &str,
    terms: &HighlightTerms,
    open: &str,
    close: &str,
) -> String {
    let ws = words(analyzer, text, terms);
    let mut out = String::with_capacity(text.len() + 16);
    emit(text, &ws, 0..text.len(), Some((open, close)), &mut out);
    out
}

/// SUMMARIZE (optionally combined with HIGHLIGHT via `tags`).
pub fn summarize(
    analyzer: &Analyzer,
    text: &str,
    terms: &HighlightTerms,
    opts: &SummarizeOpts<'_>,
    tags: Option<(&str, &str)>,
) -> String {
    let ws = words(analyzer, text, terms);
    let len = opts.len.max(1);
    let mut out = String::new();
    if ws.is_empty() {
        return out;
    }
    let mut frags: Vec<(usize, usize)> = Vec::new(); // [start, end) word indices
    for (i, w) in ws.iter().enumerate() {
        if w.hit.is_none() || frags.last().is_some_and(|&(_, e)| i < e) {
            continue;
        }
        let start = i.saturating_sub(len / 2);
        let end = (start + len).min(ws.len());
        let start = end.saturating_sub(len).min(start);
        let start = frags.last().map_or(start, |&(_, e)| start.max(e));
        frags.push((start, end));
    }
    if frags.is_empty() {
        let end = len.min(ws.len());
        emit(
            text,
            &ws,
            ws[0].span.start..ws[end - 1].span.end,
            tags,
            &mut out,
        );
        out.push_str(opts.separator);
        return out;
    }
    let mut scored: Vec<(usize, usize, usize)> = frags
        .iter()
        .map(|&(s, e)| {
            let hits: Vec<&String> = ws[s..e].iter().filter_map(|w| w.hit.as_ref()).collect();
            let distinct: HashSet<&String> = hits.iter().copied().collect();
            (10 * distinct.len() + hits.len(), s, e)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(opts.frags.max(1));
    scored.sort_by_key(|x| x.1);
    for (_, s, e) in scored {
        emit(
            text,
            &ws,
            ws[s].span.start..ws[e - 1].span.end,
            tags,
            &mut out,
        );
        out.push_str(opts.separator);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_surface_and_stems() {
        let a = Analyzer::default();
        let t = HighlightTerms::new(&a, &["running", "the"], true);
        let s = highlight(&a, "He runs; The RUNNING man ran.", &t, "<b>", "</b>");
        assert_eq!(s, "He <b>runs</b>; The <b>RUNNING</b> man ran.");
        let v = HighlightTerms::new(&a, &["running"], false);
        assert_eq!(
            highlight(&a, "runs running", &v, "[", "]"),
            "runs [running]"
        );
    }

    #[test]
    fn summarize_fragments() {
        let a = Analyzer::new(crate::Language::English, crate::StopWords::None);
        let text = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let t = HighlightTerms::new(&a, &["w10", "w50", "w52", "w90"], false);
        let o = SummarizeOpts {
            frags: 2,
            len: 4,
            separator: "... ",
        };
        // Fragments: [8,12) (w10), [48,52) (w50), [52,56) (w52), [88,92) (w90); all score 11,
        // the two earliest win.
        assert_eq!(
            summarize(&a, &text, &t, &o, None),
            "w8 w9 w10 w11... w48 w49 w50 w51... "
        );
        let o = SummarizeOpts {
            frags: 1,
            len: 6,
            separator: " | ",
        };
        // [47,53) holds w50 and w52 → best fragment.
        assert_eq!(
            summarize(&a, &text, &t, &o, Some(("<b>", "</b>"))),
            "w47 w48 w49 <b>w50</b> w51 <b>w52</b> | "
        );
        let none = HighlightTerms::new(&a, &["zzz"], false);
        assert_eq!(
            summarize(
                &a,
                "a b, c d",
                &none,
                &SummarizeOpts {
                    len: 3,
                    ..Default::default()
                },
                None
            ),
            "a b, c... "
        );
        assert_eq!(
            summarize(&a, "", &none, &SummarizeOpts::default(), None),
            ""
        );
    }
}
