//! `=> { $name: value; ... }` attributes: validation and application to a node, as
//! RediSearch's `QueryNode_ApplyAttribute` does (`$weight` ≥ 0, `$slop` ≥ -1, `$inorder` /
//! `$phonetic` booleans on any node; `$yield_distance_as` and the vector query parameters on
//! vector nodes only; names case-insensitive).

use super::ast::{NodeKind, QueryNode};
use super::error::{QueryError, QueryErrorKind};
use super::parse::parse_double;

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// Applies `=> { ... }` attributes (RediSearch's `QueryNode_ApplyAttribute`).
pub(crate) fn apply_attributes(
    n: &mut QueryNode,
    attrs: &[(String, String, usize)],
) -> Result<(), QueryError> {
    for (name, value, pos) in attrs {
        let invalid = || {
            QueryError::new(
                QueryErrorKind::BadAttributeValue,
                format!("Invalid value ({value}) for `{name}`"),
                Some(*pos),
            )
        };
        if value.is_empty() {
            return Err(invalid());
        }
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "slop" => {
                let s: i64 = value.parse().map_err(|_| invalid())?;
                if s < -1 {
                    return Err(invalid());
                }
                n.attrs.slop = if s == -1 { None } else { Some(s) };
            }
            "inorder" => n.attrs.inorder = Some(parse_bool(value).ok_or_else(invalid)?),
            "weight" => {
                let w = parse_double(value).ok_or_else(invalid)?;
                if w.is_nan() || w < 0.0 {
                    return Err(invalid());
                }
                n.attrs.weight = w;
            }
            "phonetic" => n.attrs.phonetic = Some(parse_bool(value).ok_or_else(invalid)?),
            _ => {
                let applied = match &mut n.kind {
                    NodeKind::VectorKnn(v) => {
                        if lname == "yield_distance_as" {
                            v.score_field = value.clone();
                            true
                        } else if is_vector_param(&lname) {
                            v.params.push((name.clone(), value.clone()));
                            true
                        } else {
                            false
                        }
                    }
                    NodeKind::VectorRange(v) => {
                        if lname == "yield_distance_as" {
                            v.yield_distance_as = Some(value.clone());
                            true
                        } else if is_vector_param(&lname) {
                            v.params.push((name.clone(), value.clone()));
                            true
                        } else {
                            false
                        }
                    }
                    _ => false,
                };
                if !applied {
                    return Err(QueryError::new(
                        QueryErrorKind::UnknownAttribute,
                        format!("Invalid attribute {name}"),
                        Some(*pos),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn is_vector_param(lname: &str) -> bool {
    matches!(
        lname,
        "ef_runtime" | "epsilon" | "hybrid_policy" | "batch_size"
    )
}
