//! FT.EXPLAIN / FT.EXPLAINCLI: the text rendering of a query tree, byte for byte as
//! RediSearch's `QueryNode_DumpSds` prints it (two spaces of indent per level, `@field:`
//! prefixes on scoped text nodes, `INTERSECT` / `UNION` / `EXACT` / `NOT{` / `OPTIONAL{`
//! blocks, `NUMERIC {lo <= @f <= hi}` with C `%f` numbers, `TAG:@t {`, `PREFIX{x*}`,
//! `FUZZY{x}`, `<WILDCARD>`, `VECTOR {...}`).
//!
//! Term expansion (stemming, synonyms) changes the printed tree: RediSearch replaces an
//! expandable term with `UNION { term  exp1(expanded) ... }`. The caller supplies the
//! expansions through [`TermExpander`] (moon-text's stemmer later; [`NoExpansion`] for
//! `VERBATIM`). Terms in exact phrases, tags, quoted terms and numeric parameters are never
//! expanded.
//!
//! Recursion follows the tree, whose depth the parser bounds (`MAX_DEPTH`).

use super::ast::*;
use crate::cfmt::{fmt_f, fmt_g};

/// Supplies the expansions of a term (already lowercased), e.g. `running` → `["+run", "run"]`.
pub trait TermExpander {
    fn expand(&self, term: &str) -> Vec<String>;
}

impl<F: Fn(&str) -> Vec<String>> TermExpander for F {
    fn expand(&self, term: &str) -> Vec<String> {
        self(term)
    }
}

/// No expansion (`VERBATIM`, or no stemmer).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExpansion;

impl TermExpander for NoExpansion {
    fn expand(&self, _term: &str) -> Vec<String> {
        Vec::new()
    }
}

/// FT.EXPLAIN's string.
pub fn explain(root: &QueryNode, expander: &dyn TermExpander) -> String {
    let mut out = String::new();
    dump(&mut out, root, 0, expander, true);
    out
}

/// FT.EXPLAINCLI's array: the same text, one element per line.
pub fn explain_cli(root: &QueryNode, expander: &dyn TermExpander) -> Vec<String> {
    explain(root, expander).lines().map(str::to_owned).collect()
}

fn pad(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn field_prefix(n: &QueryNode) -> String {
    match (&n.fields, &n.kind) {
        (None, _) | (_, NodeKind::Numeric(_) | NodeKind::Geo(_)) => String::new(),
        (Some(f), _) if f.is_empty() => "@NULL:".into(),
        (Some(f), _) => format!("@{}:", f.join("|")),
    }
}

fn dump_children(
    out: &mut String,
    children: &[QueryNode],
    depth: usize,
    ex: &dyn TermExpander,
    expand: bool,
) {
    for c in children {
        dump(out, c, depth, ex, expand);
    }
}

fn dump(out: &mut String, n: &QueryNode, depth: usize, ex: &dyn TermExpander, expand: bool) {
    pad(out, depth);
    let prefix = field_prefix(n);
    out.push_str(&prefix);
    match &n.kind {
        NodeKind::Term(t) => {
            let text = t.text.to_lowercase();
            let expansions = if expand && !t.verbatim {
                ex.expand(&text)
            } else {
                Vec::new()
            };
            if expansions.is_empty() {
                push_token(out, &text, n.attrs.weight);
                return;
            }
            out.push_str("UNION {\n");
            pad(out, depth + 1);
            out.push_str(&prefix);
            push_token(out, &text, n.attrs.weight);
            for e in &expansions {
                pad(out, depth + 1);
                out.push_str(&prefix);
                out.push_str(e);
                out.push_str("(expanded)\n");
            }
            pad(out, depth);
            out.push('}');
            // The union RediSearch creates has default attributes.
            out.push('\n');
            return;
        }
        NodeKind::And(c) => block(out, "INTERSECT {\n", c, depth, ex, expand),
        NodeKind::Phrase(c) => block(out, "EXACT {\n", c, depth, ex, false),
        NodeKind::Or(c) => block(out, "UNION {\n", c, depth, ex, expand),
        NodeKind::Not(c) => block(out, "NOT{\n", std::slice::from_ref(c), depth, ex, expand),
        NodeKind::Optional(c) => block(
            out,
            "OPTIONAL{\n",
            std::slice::from_ref(c),
            depth,
            ex,
            expand,
        ),
        NodeKind::Prefix(t) => out.push_str(&format!("PREFIX{{{}*}}", t.text.to_lowercase())),
        NodeKind::Suffix(t) => out.push_str(&format!("SUFFIX{{*{}}}", t.text.to_lowercase())),
        NodeKind::Infix(t) => out.push_str(&format!("INFIX{{*{}*}}", t.text.to_lowercase())),
        NodeKind::Pattern(p) => out.push_str(&format!("WILDCARD{{{p}}}")),
        NodeKind::Fuzzy { term, .. } => {
            out.push_str(&format!("FUZZY{{{}}}", term.text.to_lowercase()))
        }
        NodeKind::Numeric(r) => out.push_str(&format!(
            "NUMERIC {{{} {} @{} {} {}}}",
            fmt_f(r.min),
            if r.min_inclusive { "<=" } else { "<" },
            r.field,
            if r.max_inclusive { "<=" } else { "<" },
            fmt_f(r.max)
        )),
        NodeKind::Geo(g) => out.push_str(&format!(
            "GEO {}:{{{},{} --> {} {}}}",
            g.field,
            fmt_f(g.lon),
            fmt_f(g.lat),
            fmt_f(g.radius),
            g.unit.as_str()
        )),
        NodeKind::Tag { field, values } => {
            out.push_str(&format!("TAG:@{field} {{\n"));
            for v in values {
                pad(out, depth + 1);
                match v {
                    TagValue::Exact(s) => out.push_str(s),
                    TagValue::Prefix(s) => out.push_str(&format!("PREFIX{{{s}*}}")),
                    TagValue::Suffix(s) => out.push_str(&format!("SUFFIX{{*{s}}}")),
                    TagValue::Infix(s) => out.push_str(&format!("INFIX{{*{s}*}}")),
                    TagValue::Pattern(s) => out.push_str(&format!("WILDCARD{{{s}}}")),
                    TagValue::Words(words) => {
                        out.push_str("INTERSECT {\n");
                        for w in words {
                            pad(out, depth + 2);
                            out.push_str(w);
                            out.push('\n');
                        }
                        pad(out, depth + 1);
                        out.push('}');
                    }
                }
                out.push('\n');
            }
            pad(out, depth);
            out.push('}');
        }
        NodeKind::VectorKnn(v) => {
            out.push_str("VECTOR {");
            if let Some(f) = &v.filter {
                out.push('\n');
                dump(out, f, depth + 1, ex, expand);
                pad(out, depth);
                out.push_str("} => {");
            }
            out.push_str(&format!(
                "K={} nearest vectors to `${}` in vector index associated with field @{}",
                v.k, v.blob_param, v.field
            ));
            push_vector_tail(out, &v.params, Some(&v.score_field));
        }
        NodeKind::VectorRange(v) => {
            out.push_str(&format!(
                "VECTOR {{Vectors that are within {} distance radius from `${}` in vector index associated with field @{}",
                fmt_g(v.radius, 6),
                v.blob_param,
                v.field
            ));
            push_vector_tail(out, &v.params, v.yield_distance_as.as_deref());
        }
        NodeKind::Wildcard => out.push_str("<WILDCARD>"),
        NodeKind::Null => out.push_str("<empty>"),
    }
    let a = &n.attrs;
    let inorder = a.inorder == Some(true);
    if a.weight != 1.0 || a.slop.is_some() || inorder {
        out.push_str(" => {");
        if a.weight != 1.0 {
            out.push_str(&format!(" $weight: {};", fmt_g(a.weight, 6)));
        }
        if let Some(s) = a.slop {
            out.push_str(&format!(" $slop: {s};"));
        }
        if inorder || a.slop.is_some() {
            out.push_str(&format!(
                " $inorder: {};",
                if inorder { "true" } else { "false" }
            ));
        }
        out.push_str(" }");
    }
    out.push('\n');
}

fn push_token(out: &mut String, text: &str, weight: f64) {
    out.push_str(if text.is_empty() { "\"\"" } else { text });
    if weight != 1.0 {
        out.push_str(&format!(" => {{$weight: {};}}", fmt_g(weight, 6)));
    }
    out.push('\n');
}

fn push_vector_tail(out: &mut String, params: &[(String, String)], score: Option<&str>) {
    for (k, v) in params {
        out.push_str(&format!(", {k} = {v}"));
    }
    if let Some(s) = score {
        out.push_str(&format!(", yields distance as `{s}`"));
    }
    out.push('}');
}

fn block(
    out: &mut String,
    head: &str,
    children: &[QueryNode],
    depth: usize,
    ex: &dyn TermExpander,
    expand: bool,
) {
    out.push_str(head);
    dump_children(out, children, depth + 1, ex, expand);
    pad(out, depth);
    out.push('}');
}
