//! The function catalogue the checker knows: names (case-insensitive) of
//! openCypher + FalkorDB scalar functions and of aggregates. A call to a name
//! outside both lists is `UnknownFunction` at compile time (FalkorDB:
//! `Unknown function 'x'`). The executor must implement every name here.

/// Aggregating functions (lower-case).
const AGGREGATES: &[&str] = &[
    "avg",
    "collect",
    "count",
    "max",
    "min",
    "percentilecont",
    "percentiledisc",
    "stdev",
    "stdevp",
    "sum",
];

/// Scalar functions (lower-case, dotted names as written).
const SCALARS: &[&str] = &[
    // math
    "abs",
    "acos",
    "asin",
    "atan",
    "atan2",
    "ceil",
    "cos",
    "cot",
    "degrees",
    "e",
    "exp",
    "floor",
    "haversin",
    "log",
    "log10",
    "pi",
    "pow",
    "radians",
    "rand",
    "round",
    "sign",
    "sin",
    "sqrt",
    "tan",
    // strings
    "left",
    "ltrim",
    "replace",
    "reverse",
    "right",
    "rtrim",
    "split",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "tostring",
    "tostringornull",
    "tostringlist",
    "string.join",
    "string.matchregex",
    "string.replaceregex",
    "intern",
    "randomuuid",
    // conversion / predicates
    "toboolean",
    "tobooleanornull",
    "tobooleanlist",
    "tofloat",
    "tofloatornull",
    "tofloatlist",
    "tointeger",
    "tointegerornull",
    "tointegerlist",
    "tojson",
    "typeof",
    "exists",
    "isempty",
    "coalesce",
    // lists
    "head",
    "last",
    "tail",
    "size",
    "length",
    "range",
    "keys",
    "reverse",
    "list.dedup",
    "list.insert",
    "list.insertlistelements",
    "list.remove",
    "list.sort",
    // graph
    "id",
    "labels",
    "type",
    "properties",
    "startnode",
    "endnode",
    "nodes",
    "relationships",
    "hasLabels",
    "haslabels",
    "indegree",
    "outdegree",
    "timestamp",
    // spatial / vector
    "point",
    "distance",
    "vecf32",
    "vec.euclideandistance",
    "vec.cosinedistance",
    // temporal
    "date",
    "time",
    "localtime",
    "localdatetime",
    "datetime",
    "duration",
    "date.truncate",
    "localtime.truncate",
    "localdatetime.truncate",
    "datetime.truncate",
    "date.transaction",
    "date.statement",
    "date.realtime",
];

pub fn is_aggregate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    AGGREGATES.contains(&lower.as_str())
}

pub fn is_known(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    AGGREGATES.contains(&lower.as_str()) || SCALARS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_lookup() {
        assert!(is_known("toUpper"));
        assert!(is_known("vec.cosineDistance"));
        assert!(is_aggregate("COUNT"));
        assert!(!is_aggregate("size"));
        assert!(!is_known("nosuchfn"));
    }
}
