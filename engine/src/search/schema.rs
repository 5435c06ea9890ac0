//! Index definitions (FT.CREATE / FT.ALTER): parsing RediSearch's argument syntax into an
//! [`IndexDef`] and writing it back as canonical FT.CREATE arguments ([`IndexDef::to_args`]).
//!
//! The parser lives here (not in moon-resp) because the engine needs it too: a snapshot
//! stores each definition as its canonical FT.CREATE arguments and recovery parses them back
//! without the RESP layer. Invariants: `IndexDef::parse(&def.to_args()) == Ok(def)` for every
//! parsed `def`; field names and attribute names are unique within an index (attributes
//! compared case-insensitively as RediSearch does); errors carry RediSearch 2.8's texts
//! (without an `ERR` prefix, as RediSearch replies them). Parsing never panics.

use bytes::Bytes;

/// What FT.CREATE's `ON` names. Only HASH is indexed; JSON is refused at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `ON HASH` (the default).
    Hash,
}

/// A vector index algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorAlgo {
    /// `FLAT`: brute force.
    Flat,
    /// `HNSW`: the graph index.
    Hnsw,
}

/// A vector element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorType {
    /// 4-byte IEEE float.
    Float32,
    /// 8-byte IEEE float.
    Float64,
    /// IEEE half precision.
    Float16,
    /// bfloat16.
    BFloat16,
}

impl VectorType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            VectorType::Float32 => 4,
            VectorType::Float64 => 8,
            VectorType::Float16 | VectorType::BFloat16 => 2,
        }
    }

    /// The name as FT.CREATE spells it.
    pub fn name(self) -> &'static str {
        match self {
            VectorType::Float32 => "FLOAT32",
            VectorType::Float64 => "FLOAT64",
            VectorType::Float16 => "FLOAT16",
            VectorType::BFloat16 => "BFLOAT16",
        }
    }
}

/// A vector distance metric: the vector engine's own type (one spelling of L2/IP/COSINE).
pub use moon_vector::Metric;

/// Moon's TurboQuant vector quantization (`QUANTIZATION TQ1|TQ2|TQ4|TQ8`): bits per element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantization(pub u8);

/// The parameters of a VECTOR field. Stored and validated here; the vector engine uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorParams {
    pub algo: VectorAlgo,
    pub dtype: VectorType,
    pub dim: usize,
    pub metric: Metric,
    /// HNSW `M` (default 16).
    pub m: Option<u64>,
    /// HNSW `EF_CONSTRUCTION` (default 200).
    pub ef_construction: Option<u64>,
    /// HNSW `EF_RUNTIME` (default 10).
    pub ef_runtime: Option<u64>,
    /// HNSW `EPSILON` (default 0.01).
    pub epsilon: Option<f64>,
    /// `INITIAL_CAP`.
    pub initial_cap: Option<u64>,
    /// FLAT `BLOCK_SIZE` (default 1024).
    pub block_size: Option<u64>,
    /// Moon: `QUANTIZATION TQn`.
    pub quantization: Option<Quantization>,
    /// Moon: `RERANK k` (candidates re-scored at full precision).
    pub rerank: Option<u64>,
}

impl VectorParams {
    /// The byte length a stored vector must have.
    pub fn blob_len(&self) -> usize {
        self.dim.saturating_mul(self.dtype.size())
    }
}

/// A field's type and its type-specific options.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// TEXT.
    Text {
        nostem: bool,
        weight: f64,
        /// `PHONETIC dm:xx`.
        phonetic: Option<Bytes>,
        withsuffixtrie: bool,
    },
    /// TAG.
    Tag {
        separator: u8,
        case_sensitive: bool,
        withsuffixtrie: bool,
    },
    /// NUMERIC.
    Numeric,
    /// GEO (`lon,lat`).
    Geo,
    /// VECTOR.
    Vector(VectorParams),
}

impl FieldType {
    /// The type name FT.INFO shows.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text { .. } => "TEXT",
            FieldType::Tag { .. } => "TAG",
            FieldType::Numeric => "NUMERIC",
            FieldType::Geo => "GEO",
            FieldType::Vector(_) => "VECTOR",
        }
    }
}

/// One schema field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// The hash field read (`identifier` in FT.INFO).
    pub identifier: Bytes,
    /// The name queries use (`AS alias`; else the identifier).
    pub attribute: Bytes,
    pub ty: FieldType,
    pub sortable: bool,
    /// `UNF` (with SORTABLE): keep the sortable value unnormalized.
    pub unf: bool,
    /// `NOINDEX`: stored for sorting only, not searchable.
    pub noindex: bool,
}

/// A whole index definition (FT.CREATE, as changed by FT.ALTER).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: Bytes,
    pub key_type: KeyType,
    /// Key prefixes; empty means every key (RediSearch's default prefix `""`).
    pub prefixes: Vec<Bytes>,
    /// `FILTER expr`: stored, not applied yet (see SPEC.md "FT indexes").
    pub filter: Option<Bytes>,
    pub language: Option<Bytes>,
    pub language_field: Option<Bytes>,
    /// `SCORE` (default 1.0).
    pub score: f64,
    pub score_field: Option<Bytes>,
    pub payload_field: Option<Bytes>,
    pub maxtextfields: bool,
    /// `TEMPORARY secs`: accepted and stored; Moon never expires an index.
    pub temporary: Option<u64>,
    pub nooffsets: bool,
    pub nohl: bool,
    pub nofields: bool,
    pub nofreqs: bool,
    /// `STOPWORDS n w...` (`Some(empty)` = no stop words).
    pub stopwords: Option<Vec<Bytes>>,
    pub skip_initial_scan: bool,
    pub fields: Vec<FieldDef>,
}

/// A parse failure, with RediSearch's text.
pub type SchemaError = String;

fn is(a: &[u8], kw: &str) -> bool {
    a.eq_ignore_ascii_case(kw.as_bytes())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `strtoll`-style unsigned parse of a whole argument.
fn parse_u64(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse::<u64>().ok()
}

fn parse_f64(b: &[u8]) -> Option<f64> {
    let v = std::str::from_utf8(b).ok()?.parse::<f64>().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Argument cursor.
struct Cursor<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<&'a Bytes> {
        let a = self.args.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }

    fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.args.len()
    }

    fn advance_if(&mut self, kw: &str) -> bool {
        if self.peek().is_some_and(|a| is(a, kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

const NOARG: &str = "Expected an argument, but none provided";
const BADTYPE: &str = "Could not convert argument to expected type";

fn bad_args(what: &str, why: &str) -> SchemaError {
    format!("Bad arguments for {what}: {why}")
}

impl IndexDef {
    /// Parses FT.CREATE's arguments after the command name (`index ... SCHEMA fields...`).
    pub fn parse(args: &[Bytes]) -> Result<IndexDef, SchemaError> {
        let Some(name) = args.first() else {
            return Err("wrong number of arguments for 'FT.CREATE' command".into());
        };
        let mut def = IndexDef {
            name: name.clone(),
            key_type: KeyType::Hash,
            prefixes: Vec::new(),
            filter: None,
            language: None,
            language_field: None,
            score: 1.0,
            score_field: None,
            payload_field: None,
            maxtextfields: false,
            temporary: None,
            nooffsets: false,
            nohl: false,
            nofields: false,
            nofreqs: false,
            stopwords: None,
            skip_initial_scan: false,
            fields: Vec::new(),
        };
        let mut c = Cursor { args, pos: 1 };
        loop {
            let Some(arg) = c.peek() else {
                return Err("No schema found".into());
            };
            if is(arg, "SCHEMA") {
                c.pos += 1;
                break;
            }
            c.pos += 1;
            let value = |c: &mut Cursor<'_>, what: &str| -> Result<Bytes, SchemaError> {
                c.next().cloned().ok_or_else(|| bad_args(what, NOARG))
            };
            if is(arg, "ON") {
                let t = value(&mut c, "ON")?;
                if is(&t, "HASH") {
                    def.key_type = KeyType::Hash;
                } else if is(&t, "JSON") {
                    return Err("ERR JSON is not supported".into());
                } else {
                    return Err(format!("Invalid `ON` argument `{}`", lossy(&t)));
                }
            } else if is(arg, "PREFIX") {
                let n = value(&mut c, "PREFIX")?;
                let n = parse_u64(&n).ok_or_else(|| bad_args("PREFIX", BADTYPE))?;
                for _ in 0..n {
                    let p = c.next().ok_or_else(|| bad_args("PREFIX", NOARG))?;
                    def.prefixes.push(p.clone());
                }
            } else if is(arg, "FILTER") {
                def.filter = Some(value(&mut c, "FILTER")?);
            } else if is(arg, "LANGUAGE") {
                let l = value(&mut c, "LANGUAGE")?;
                if !LANGUAGES.iter().any(|x| is(&l, x)) {
                    return Err("Invalid language".into());
                }
                def.language = Some(l);
            } else if is(arg, "LANGUAGE_FIELD") {
                def.language_field = Some(value(&mut c, "LANGUAGE_FIELD")?);
            } else if is(arg, "SCORE") {
                let s = value(&mut c, "SCORE")?;
                match parse_f64(&s) {
                    Some(v) if (0.0..=1.0).contains(&v) => def.score = v,
                    _ => return Err("Invalid score".into()),
                }
            } else if is(arg, "SCORE_FIELD") {
                def.score_field = Some(value(&mut c, "SCORE_FIELD")?);
            } else if is(arg, "PAYLOAD_FIELD") {
                def.payload_field = Some(value(&mut c, "PAYLOAD_FIELD")?);
            } else if is(arg, "MAXTEXTFIELDS") {
                def.maxtextfields = true;
            } else if is(arg, "TEMPORARY") {
                let t = value(&mut c, "TEMPORARY")?;
                def.temporary = Some(parse_u64(&t).ok_or_else(|| bad_args("TEMPORARY", BADTYPE))?);
            } else if is(arg, "NOOFFSETS") {
                def.nooffsets = true;
            } else if is(arg, "NOHL") {
                def.nohl = true;
            } else if is(arg, "NOFIELDS") {
                def.nofields = true;
            } else if is(arg, "NOFREQS") {
                def.nofreqs = true;
            } else if is(arg, "SKIPINITIALSCAN") {
                def.skip_initial_scan = true;
            } else if is(arg, "STOPWORDS") {
                let n = value(&mut c, "STOPWORDS")?;
                let n = parse_u64(&n).ok_or_else(|| bad_args("STOPWORDS", BADTYPE))?;
                let mut words = Vec::new();
                for _ in 0..n {
                    let w = c.next().ok_or_else(|| bad_args("STOPWORDS", NOARG))?;
                    words.push(w.clone());
                }
                def.stopwords = Some(words);
            } else {
                return Err(format!("Unknown argument `{}`", lossy(arg)));
            }
        }
        if c.at_end() {
            return Err("Fields arguments are missing".into());
        }
        def.fields = parse_fields(&mut c, &[])?;
        Ok(def)
    }

    /// The canonical FT.CREATE arguments (after the command name) of this definition.
    pub fn to_args(&self) -> Vec<Bytes> {
        let mut a: Vec<Bytes> = vec![self.name.clone()];
        let kw = |a: &mut Vec<Bytes>, s: &'static str| a.push(Bytes::from_static(s.as_bytes()));
        kw(&mut a, "ON");
        kw(&mut a, "HASH");
        if !self.prefixes.is_empty() {
            kw(&mut a, "PREFIX");
            a.push(Bytes::from(self.prefixes.len().to_string()));
            a.extend(self.prefixes.iter().cloned());
        }
        let opt = |a: &mut Vec<Bytes>, name: &'static str, v: &Option<Bytes>| {
            if let Some(v) = v {
                a.push(Bytes::from_static(name.as_bytes()));
                a.push(v.clone());
            }
        };
        opt(&mut a, "FILTER", &self.filter);
        opt(&mut a, "LANGUAGE", &self.language);
        opt(&mut a, "LANGUAGE_FIELD", &self.language_field);
        if self.score != 1.0 {
            kw(&mut a, "SCORE");
            a.push(Bytes::from(self.score.to_string()));
        }
        opt(&mut a, "SCORE_FIELD", &self.score_field);
        opt(&mut a, "PAYLOAD_FIELD", &self.payload_field);
        if self.maxtextfields {
            kw(&mut a, "MAXTEXTFIELDS");
        }
        if let Some(t) = self.temporary {
            kw(&mut a, "TEMPORARY");
            a.push(Bytes::from(t.to_string()));
        }
        for (on, name) in [
            (self.nooffsets, "NOOFFSETS"),
            (self.nohl, "NOHL"),
            (self.nofields, "NOFIELDS"),
            (self.nofreqs, "NOFREQS"),
            (self.skip_initial_scan, "SKIPINITIALSCAN"),
        ] {
            if on {
                kw(&mut a, name);
            }
        }
        if let Some(words) = &self.stopwords {
            kw(&mut a, "STOPWORDS");
            a.push(Bytes::from(words.len().to_string()));
            a.extend(words.iter().cloned());
        }
        kw(&mut a, "SCHEMA");
        for f in &self.fields {
            f.write_args(&mut a);
        }
        a
    }

    /// The index of the field whose attribute (or identifier) is `name`.
    pub fn field_position(&self, name: &[u8]) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.attribute.eq_ignore_ascii_case(name))
            .or_else(|| self.fields.iter().position(|f| f.identifier == name))
    }
}

use moon_text::REDISEARCH_LANGUAGES as LANGUAGES;

/// Parses schema fields until the arguments end (FT.CREATE after SCHEMA; FT.ALTER after
/// `SCHEMA ADD`). `existing` are the fields already defined (duplicates are errors).
pub fn parse_fields_args(
    args: &[Bytes],
    existing: &[FieldDef],
) -> Result<Vec<FieldDef>, SchemaError> {
    let mut c = Cursor { args, pos: 0 };
    if c.at_end() {
        return Err("Fields arguments are missing".into());
    }
    parse_fields(&mut c, existing)
}

fn parse_fields(c: &mut Cursor<'_>, existing: &[FieldDef]) -> Result<Vec<FieldDef>, SchemaError> {
    let mut out: Vec<FieldDef> = Vec::new();
    while let Some(name) = c.next() {
        let mut attribute = name.clone();
        if c.advance_if("AS") {
            match c.next() {
                Some(a) => attribute = a.clone(),
                None => return Err(bad_args("AS", NOARG)),
            }
        }
        let dup = existing
            .iter()
            .chain(out.iter())
            .any(|f| f.attribute.eq_ignore_ascii_case(&attribute) || f.identifier == *name);
        if dup {
            return Err(format!("Duplicate field in schema - {}", lossy(&attribute)));
        }
        let Some(ty) = c.next() else {
            return Err(format!("Field `{}` does not have a type", lossy(name)));
        };
        let mut f = FieldDef {
            identifier: name.clone(),
            attribute,
            ty: FieldType::Numeric,
            sortable: false,
            unf: false,
            noindex: false,
        };
        if is(ty, "TEXT") {
            let (mut nostem, mut weight, mut phonetic, mut suffix) = (false, 1.0, None, false);
            loop {
                if c.advance_if("NOSTEM") {
                    nostem = true;
                } else if c.advance_if("WEIGHT") {
                    let w = c.next().ok_or_else(|| bad_args("weight", NOARG))?;
                    weight = parse_f64(w)
                        .filter(|w| *w >= 0.0)
                        .ok_or_else(|| bad_args("weight", BADTYPE))?;
                } else if c.advance_if("PHONETIC") {
                    let m = c.next().ok_or_else(|| bad_args("phonetic", NOARG))?;
                    let ok = m.len() == 5
                        && m[..3].eq_ignore_ascii_case(b"dm:")
                        && ["en", "pt", "fr", "es"].iter().any(|l| is(&m[3..], l));
                    if !ok {
                        return Err("Matcher Format: <2 chars algorithm>:<2 chars language>".into());
                    }
                    phonetic = Some(m.clone());
                } else if c.advance_if("WITHSUFFIXTRIE") {
                    suffix = true;
                } else if !common_opt(c, &mut f) {
                    break;
                }
            }
            f.ty = FieldType::Text {
                nostem,
                weight,
                phonetic,
                withsuffixtrie: suffix,
            };
        } else if is(ty, "TAG") {
            let (mut sep, mut cs, mut suffix) = (b',', false, false);
            loop {
                if c.advance_if("SEPARATOR") {
                    let s = c.next().ok_or_else(|| bad_args("SEPARATOR", NOARG))?;
                    match s.as_ref() {
                        [b] => sep = *b,
                        _ => {
                            return Err(format!(
                                "Tag separator must be a single character. Got `{}`",
                                lossy(s)
                            ));
                        }
                    }
                } else if c.advance_if("CASESENSITIVE") {
                    cs = true;
                } else if c.advance_if("WITHSUFFIXTRIE") {
                    suffix = true;
                } else if !common_opt(c, &mut f) {
                    break;
                }
            }
            f.ty = FieldType::Tag {
                separator: sep,
                case_sensitive: cs,
                withsuffixtrie: suffix,
            };
        } else if is(ty, "NUMERIC") {
            while common_opt(c, &mut f) {}
            f.ty = FieldType::Numeric;
        } else if is(ty, "GEO") {
            while common_opt(c, &mut f) {}
            f.ty = FieldType::Geo;
        } else if is(ty, "VECTOR") {
            f.ty = FieldType::Vector(parse_vector(c)?);
            // RediSearch accepts no SORTABLE on vectors; NOINDEX is meaningless there too.
        } else {
            return Err(format!("Invalid field type for field `{}`", lossy(name)));
        }
        out.push(f);
    }
    Ok(out)
}

/// SORTABLE [UNF] / NOINDEX, shared by TEXT, TAG, NUMERIC, GEO. False when the next argument
/// is none of them (it then starts the next field).
fn common_opt(c: &mut Cursor<'_>, f: &mut FieldDef) -> bool {
    if c.advance_if("SORTABLE") {
        f.sortable = true;
        if c.advance_if("UNF") {
            f.unf = true;
        }
        true
    } else if c.advance_if("NOINDEX") {
        f.noindex = true;
        true
    } else {
        false
    }
}

fn parse_vector(c: &mut Cursor<'_>) -> Result<VectorParams, SchemaError> {
    let algo_arg = c
        .next()
        .ok_or_else(|| bad_args("vector similarity algorithm", NOARG))?;
    let (algo, an) = if is(algo_arg, "HNSW") {
        (VectorAlgo::Hnsw, "HNSW")
    } else if is(algo_arg, "FLAT") {
        (VectorAlgo::Flat, "FLAT")
    } else {
        return Err(bad_args("vector similarity algorithm", "Unknown argument"));
    };
    let n = c
        .next()
        .ok_or_else(|| bad_args("vector similarity number of parameters", NOARG))?;
    let n =
        parse_u64(n).ok_or_else(|| bad_args("vector similarity number of parameters", BADTYPE))?;
    if n % 2 != 0 {
        return Err(format!(
            "Bad number of arguments for vector similarity index: got {n} but expected even number"
        ));
    }
    let what = |p: &str| format!("vector similarity {an} index {p}");
    let (mut dtype, mut dim, mut metric) = (None, None, None);
    let mut p = VectorParams {
        algo,
        dtype: VectorType::Float32,
        dim: 0,
        metric: Metric::L2,
        m: None,
        ef_construction: None,
        ef_runtime: None,
        epsilon: None,
        initial_cap: None,
        block_size: None,
        quantization: None,
        rerank: None,
    };
    let mut seen = 0;
    while seen < n {
        let Some(key) = c.next() else { break };
        let val = c.next();
        seen += 2;
        let size = |p: &str| -> Result<u64, SchemaError> {
            let v = val.ok_or_else(|| bad_args(&what(p), NOARG))?;
            match parse_u64(v) {
                Some(0) => Err(bad_args(&what(p), "Value is outside acceptable bounds")),
                Some(x) => Ok(x),
                None => Err(bad_args(&what(p), BADTYPE)),
            }
        };
        if is(key, "TYPE") {
            let v = val.ok_or_else(|| bad_args(&what("type"), NOARG))?;
            dtype = Some(
                [
                    VectorType::Float32,
                    VectorType::Float64,
                    VectorType::Float16,
                    VectorType::BFloat16,
                ]
                .into_iter()
                .find(|t| is(v, t.name()))
                .ok_or_else(|| bad_args(&what("type"), "Unknown argument"))?,
            );
        } else if is(key, "DIM") {
            dim = Some(size("dim")?);
        } else if is(key, "DISTANCE_METRIC") {
            let v = val.ok_or_else(|| bad_args(&what("metric"), NOARG))?;
            metric = Some(
                [Metric::L2, Metric::Ip, Metric::Cosine]
                    .into_iter()
                    .find(|m| is(v, m.name()))
                    .ok_or_else(|| bad_args(&what("metric"), "Unknown argument"))?,
            );
        } else if is(key, "INITIAL_CAP") {
            p.initial_cap = Some(size("initial cap")?);
        } else if is(key, "BLOCK_SIZE") && algo == VectorAlgo::Flat {
            p.block_size = Some(size("block size")?);
        } else if is(key, "M") && algo == VectorAlgo::Hnsw {
            p.m = Some(size("m")?);
        } else if is(key, "EF_CONSTRUCTION") && algo == VectorAlgo::Hnsw {
            p.ef_construction = Some(size("efConstruction")?);
        } else if is(key, "EF_RUNTIME") && algo == VectorAlgo::Hnsw {
            p.ef_runtime = Some(size("efRuntime")?);
        } else if is(key, "EPSILON") && algo == VectorAlgo::Hnsw {
            let v = val.ok_or_else(|| bad_args(&what("epsilon"), NOARG))?;
            p.epsilon = Some(
                parse_f64(v)
                    .filter(|e| *e > 0.0)
                    .ok_or_else(|| bad_args(&what("epsilon"), BADTYPE))?,
            );
        } else if is(key, "QUANTIZATION") {
            let v = val.ok_or_else(|| bad_args(&what("quantization"), NOARG))?;
            let bits = [1u8, 2, 4, 8]
                .into_iter()
                .find(|b| is(v, &format!("TQ{b}")))
                .ok_or_else(|| bad_args(&what("quantization"), "Unknown argument"))?;
            p.quantization = Some(Quantization(bits));
        } else if is(key, "RERANK") {
            p.rerank = Some(size("rerank")?);
        } else {
            return Err(format!("Bad arguments for algorithm {an}: {}", lossy(key)));
        }
    }
    if seen < n {
        return Err(format!("Expected {n} parameters but got {seen}"));
    }
    let missing = |what: &str| {
        format!(
            "Missing mandatory parameter: cannot create {an} index without specifying {what} argument"
        )
    };
    p.dtype = dtype.ok_or_else(|| missing("TYPE"))?;
    p.dim = usize::try_from(dim.ok_or_else(|| missing("DIM"))?).unwrap_or(usize::MAX);
    p.metric = metric.ok_or_else(|| missing("DISTANCE_METRIC"))?;
    Ok(p)
}

impl FieldDef {
    /// Appends this field's canonical schema arguments.
    pub fn write_args(&self, a: &mut Vec<Bytes>) {
        let kw = |a: &mut Vec<Bytes>, s: &'static str| a.push(Bytes::from_static(s.as_bytes()));
        a.push(self.identifier.clone());
        if self.attribute != self.identifier {
            kw(a, "AS");
            a.push(self.attribute.clone());
        }
        kw(a, self.ty.name());
        match &self.ty {
            FieldType::Text {
                nostem,
                weight,
                phonetic,
                withsuffixtrie,
            } => {
                if *nostem {
                    kw(a, "NOSTEM");
                }
                if *weight != 1.0 {
                    kw(a, "WEIGHT");
                    a.push(Bytes::from(weight.to_string()));
                }
                if let Some(p) = phonetic {
                    kw(a, "PHONETIC");
                    a.push(p.clone());
                }
                if *withsuffixtrie {
                    kw(a, "WITHSUFFIXTRIE");
                }
            }
            FieldType::Tag {
                separator,
                case_sensitive,
                withsuffixtrie,
            } => {
                if *separator != b',' {
                    kw(a, "SEPARATOR");
                    a.push(Bytes::copy_from_slice(&[*separator]));
                }
                if *case_sensitive {
                    kw(a, "CASESENSITIVE");
                }
                if *withsuffixtrie {
                    kw(a, "WITHSUFFIXTRIE");
                }
            }
            FieldType::Numeric | FieldType::Geo => {}
            FieldType::Vector(p) => {
                let mut params: Vec<Bytes> = Vec::new();
                let mut pair = |k: &'static str, v: String| {
                    params.push(Bytes::from_static(k.as_bytes()));
                    params.push(Bytes::from(v));
                };
                pair("TYPE", p.dtype.name().to_string());
                pair("DIM", p.dim.to_string());
                pair("DISTANCE_METRIC", p.metric.name().to_string());
                let opts = [
                    ("INITIAL_CAP", p.initial_cap),
                    ("BLOCK_SIZE", p.block_size),
                    ("M", p.m),
                    ("EF_CONSTRUCTION", p.ef_construction),
                    ("EF_RUNTIME", p.ef_runtime),
                ];
                for (k, v) in opts {
                    if let Some(v) = v {
                        pair(k, v.to_string());
                    }
                }
                if let Some(e) = p.epsilon {
                    pair("EPSILON", e.to_string());
                }
                if let Some(q) = p.quantization {
                    pair("QUANTIZATION", format!("TQ{}", q.0));
                }
                if let Some(r) = p.rerank {
                    pair("RERANK", r.to_string());
                }
                kw(
                    a,
                    match p.algo {
                        VectorAlgo::Hnsw => "HNSW",
                        VectorAlgo::Flat => "FLAT",
                    },
                );
                a.push(Bytes::from(params.len().to_string()));
                a.extend(params);
            }
        }
        if self.sortable {
            kw(a, "SORTABLE");
            if self.unf {
                kw(a, "UNF");
            }
        }
        if self.noindex {
            kw(a, "NOINDEX");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<Bytes> {
        s.split_whitespace()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn parse(s: &str) -> Result<IndexDef, SchemaError> {
        IndexDef::parse(&args(s))
    }

    #[test]
    fn parses_and_round_trips() {
        let cases = [
            "idx SCHEMA t TEXT",
            "idx ON HASH PREFIX 2 a: b: FILTER @x==1 LANGUAGE french SCORE 0.5 NOHL NOFREQS \
             STOPWORDS 2 foo bar SKIPINITIALSCAN SCHEMA t TEXT NOSTEM WEIGHT 2 SORTABLE UNF \
             g AS tags TAG SEPARATOR ; CASESENSITIVE n NUMERIC SORTABLE NOINDEX loc GEO \
             v VECTOR HNSW 10 TYPE FLOAT32 DIM 4 DISTANCE_METRIC COSINE M 8 QUANTIZATION TQ4",
            "i PREFIX 1 doc: STOPWORDS 0 SCHEMA v VECTOR FLAT 8 TYPE FLOAT16 DIM 3 DISTANCE_METRIC L2 BLOCK_SIZE 10",
        ];
        for c in cases {
            let d = parse(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(IndexDef::parse(&d.to_args()), Ok(d.clone()), "{c}");
        }
        let d = parse(cases[1]).expect("parses");
        assert_eq!(d.prefixes, args("a: b:"));
        assert_eq!(d.fields.len(), 5);
        assert_eq!(d.fields[1].attribute, Bytes::from_static(b"tags"));
        assert_eq!(
            d.fields[1].ty,
            FieldType::Tag {
                separator: b';',
                case_sensitive: true,
                withsuffixtrie: false
            }
        );
        assert!(d.fields[2].sortable && d.fields[2].noindex);
        let FieldType::Vector(v) = &d.fields[4].ty else {
            panic!("vector")
        };
        assert_eq!((v.dim, v.blob_len(), v.m), (4, 16, Some(8)));
    }

    #[test]
    fn errors_have_redisearch_texts() {
        let cases = [
            ("idx", "No schema found"),
            ("idx BOGUS SCHEMA t TEXT", "Unknown argument `BOGUS`"),
            ("idx SCHEMA", "Fields arguments are missing"),
            ("idx ON JSON SCHEMA t TEXT", "ERR JSON is not supported"),
            ("idx SCHEMA t", "Field `t` does not have a type"),
            (
                "idx SCHEMA t TEXT BOGUS",
                "Field `BOGUS` does not have a type",
            ),
            ("idx SCHEMA t FOO", "Invalid field type for field `t`"),
            ("idx SCHEMA t TEXT t TAG", "Duplicate field in schema - t"),
            (
                "idx SCHEMA t TAG SEPARATOR ab",
                "Tag separator must be a single character. Got `ab`",
            ),
            (
                "idx SCHEMA v VECTOR HNSW 6 TYPE FLOAT32 DIM x DISTANCE_METRIC L2",
                "Bad arguments for vector similarity HNSW index dim: Could not convert argument to expected type",
            ),
            (
                "idx SCHEMA v VECTOR HNSW 4 TYPE FLOAT32 DIM 4",
                "Missing mandatory parameter: cannot create HNSW index without specifying DISTANCE_METRIC argument",
            ),
            (
                "idx SCHEMA v VECTOR HNSW 3 TYPE FLOAT32 DIM",
                "Bad number of arguments for vector similarity index: got 3 but expected even number",
            ),
            (
                "idx SCHEMA v VECTOR HNSW 6 TYPE INT8 DIM 4 DISTANCE_METRIC L2",
                "Bad arguments for vector similarity HNSW index type: Unknown argument",
            ),
            (
                "idx SCHEMA v VECTOR FLAT 6 TYPE FLOAT32 DIM 4 M 2",
                "Bad arguments for algorithm FLAT: M",
            ),
            (
                "idx SCHEMA v VECTOR KNN 6 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2",
                "Bad arguments for vector similarity algorithm: Unknown argument",
            ),
            (
                "idx SCHEMA v VECTOR HNSW 8 TYPE FLOAT32 DIM 4 DISTANCE_METRIC L2",
                "Expected 8 parameters but got 6",
            ),
            (
                "idx PREFIX x SCHEMA t TEXT",
                "Bad arguments for PREFIX: Could not convert argument to expected type",
            ),
            ("idx PREFIX 3 a SCHEMA t TEXT", "Unknown argument `TEXT`"),
        ];
        for (c, want) in cases {
            assert_eq!(parse(c).err().as_deref(), Some(want), "{c}");
        }
    }

    #[test]
    fn alter_fields_check_duplicates() {
        let d = parse("idx SCHEMA t TEXT").expect("parses");
        assert_eq!(
            parse_fields_args(&args("t TAG"), &d.fields),
            Err("Duplicate field in schema - t".to_string())
        );
        let f = parse_fields_args(&args("n NUMERIC SORTABLE"), &d.fields).expect("parses");
        assert_eq!(f.len(), 1);
        assert!(parse_fields_args(&[], &d.fields).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(words in proptest::collection::vec("[A-Za-z0-9:;,]{0,6}", 0..14)) {
            let a: Vec<Bytes> = words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect();
            let _ = IndexDef::parse(&a);
        }
    }
}
