//! The openCypher TCK runner's parts: [`gherkin`] reads the feature files, [`value`] parses
//! the TCK's expected values and decodes compact GRAPH.QUERY replies, [`runner`] executes and
//! judges scenarios. Used by `tests/tck.rs`.

pub mod gherkin;
pub mod runner;
pub mod value;
