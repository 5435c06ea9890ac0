//! Lowering of FalkorDB's vector index DDL: `CREATE VECTOR INDEX FOR (p:L) ON (p.a) OPTIONS
//! {dimension, similarityFunction, M, efConstruction, efRuntime}` and `DROP VECTOR INDEX FOR
//! (p:L) ON (p.a)` (relationship forms `FOR ()-[r:T]-()` too) into `Op::VectorIndexDdl`.
//!
//! Options are validated here (names case-insensitive; `dimension` and `similarityFunction`
//! required, the HNSW knobs optional with FalkorDB's defaults), so a bad index never reaches
//! the graph.

use std::sync::Arc;

use moon_graph::plan::{Op, Plan};
use moon_graph::{VectorOptions, VectorSimilarity};

use crate::ast::{ConstValue, IndexEntity, IndexSpec};
use crate::error::{CypherError, ErrorDetail};

fn invalid(offset: usize, msg: impl Into<String>) -> CypherError {
    CypherError::new(ErrorDetail::InvalidArgumentType, offset, msg.into())
}

/// A positive integer option that fits `u32`.
fn positive(v: &ConstValue, name: &str, at: usize) -> Result<u32, CypherError> {
    match v {
        ConstValue::Integer(i) if *i > 0 => u32::try_from(*i)
            .map_err(|_| invalid(at, format!("Vector index option {name} is out of range"))),
        _ => Err(invalid(
            at,
            format!("Vector index option {name} must be a positive integer"),
        )),
    }
}

fn options(spec: &IndexSpec) -> Result<VectorOptions, CypherError> {
    let at = spec.span.start;
    let (mut dim, mut sim) = (None, None);
    let mut o = VectorOptions::new(1, VectorSimilarity::Euclidean);
    for (k, v) in &spec.options {
        match k.to_ascii_lowercase().as_str() {
            "dimension" => dim = Some(positive(v, "dimension", at)?),
            "similarityfunction" => match v {
                ConstValue::String(s) => {
                    sim = Some(VectorSimilarity::parse(s).ok_or_else(|| {
                        invalid(
                            at,
                            "Vector index similarityFunction must be 'euclidean' or 'cosine'",
                        )
                    })?)
                }
                _ => {
                    return Err(invalid(
                        at,
                        "Vector index similarityFunction must be a string",
                    ));
                }
            },
            "m" => o.m = positive(v, "M", at)?,
            "efconstruction" => o.ef_construction = positive(v, "efConstruction", at)?,
            "efruntime" => o.ef_runtime = positive(v, "efRuntime", at)?,
            other => {
                return Err(invalid(
                    at,
                    format!("Unknown vector index option '{other}'"),
                ));
            }
        }
    }
    match (dim, sim) {
        (Some(d), Some(s)) => {
            o.dimension = d;
            o.similarity = s;
            o.validate().map_err(|e| invalid(at, e.to_string()))?;
            Ok(o)
        }
        _ => Err(invalid(
            at,
            "Vector index OPTIONS must specify dimension and similarityFunction",
        )),
    }
}

/// The plan of one vector index DDL statement.
pub(crate) fn vector_index_ddl(spec: &IndexSpec, drop: bool) -> Result<Plan, CypherError> {
    let [prop] = spec.properties.as_slice() else {
        return Err(invalid(
            spec.span.start,
            "A vector index covers exactly one attribute",
        ));
    };
    let options = if drop { None } else { Some(options(spec)?) };
    Ok(Plan {
        ops: vec![Op::VectorIndexDdl {
            label: Arc::from(spec.label.name.as_str()),
            prop: Arc::from(prop.name.as_str()),
            rel: spec.entity == IndexEntity::Relationship,
            options,
        }],
        slots: 0,
        columns: Vec::new(),
        names: Vec::new(),
    })
}
