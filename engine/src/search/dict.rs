//! FT.DICTADD / FT.DICTDEL / FT.DICTDUMP (process-wide custom dictionaries, kept identically
//! on every shard's registry) and FT.SYNUPDATE / FT.SYNDUMP (an index's synonym groups):
//! their execution on one shard and their snapshot records.
//!
//! Invariants: dictionary writes and FT.SYNUPDATE run on every shard under the server's
//! freeze protocol (as definition writes), each shard logs them to the WAL as their canonical
//! command, so all shards hold the same dictionaries and synonyms and any one shard can answer
//! FT.DICTDUMP / FT.SYNDUMP. An emptied dictionary disappears. Terms are kept as given in
//! dictionaries (RediSearch keeps their case) and lowercased in synonym groups.
//!
//! Snapshot: dictionaries are section-6 records of database 1 (definitions are database 0):
//! key = dictionary name, value = [`encode_strings`] of its terms. Synonym groups travel with
//! their index's definition record (a third list after the FT.CREATE arguments and aliases,
//! see `search::encode_definition`): `gid, n, term × n` repeated.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::registry::{Registry, UNKNOWN_INDEX};
use super::synonyms::Synonyms;
use crate::ir::ops::SearchOp;
use crate::ir::{OpError, Reply};

/// The snapshot database number of dictionary records in section 6.
pub const DICT_RECORD_DB: u16 = 1;

/// Named dictionaries of terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dicts {
    dicts: BTreeMap<Bytes, BTreeSet<Bytes>>,
}

impl Dicts {
    /// FT.DICTADD: how many terms were new.
    pub fn add(&mut self, dict: &Bytes, terms: &[Bytes]) -> usize {
        let d = self.dicts.entry(dict.clone()).or_default();
        terms.iter().filter(|t| d.insert((*t).clone())).count()
    }

    /// FT.DICTDEL: how many terms were removed.
    pub fn del(&mut self, dict: &[u8], terms: &[Bytes]) -> usize {
        let Some(d) = self.dicts.get_mut(dict) else {
            return 0;
        };
        let n = terms.iter().filter(|t| d.remove(*t)).count();
        if d.is_empty() {
            self.dicts.remove(dict);
        }
        n
    }

    /// A dictionary's terms, sorted.
    pub fn get(&self, dict: &[u8]) -> Option<&BTreeSet<Bytes>> {
        self.dicts.get(dict)
    }

    /// Every dictionary (snapshot).
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &BTreeSet<Bytes>)> {
        self.dicts.iter()
    }

    /// A dictionary's terms as strings (spell checking's INCLUDE / EXCLUDE sets).
    pub fn as_strings(&self, dict: &[u8]) -> Option<BTreeSet<String>> {
        self.dicts.get(dict).map(|d| {
            d.iter()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .collect()
        })
    }

    /// Replaces a dictionary wholesale (snapshot load).
    pub fn load(&mut self, dict: Bytes, terms: Vec<Bytes>) {
        if terms.is_empty() {
            return;
        }
        self.dicts.insert(dict, terms.into_iter().collect());
    }
}

fn err(t: impl Into<String>) -> Reply {
    Reply::Err(OpError::Other(t.into()))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Executes a dictionary or synonym op on this shard; None for any other op.
pub fn execute(reg: &mut Registry, op: &SearchOp) -> Option<Reply> {
    Some(match op {
        SearchOp::DictAdd { dict, terms } => Reply::Int(reg.dicts.add(dict, terms) as i64),
        SearchOp::DictDel { dict, terms } => Reply::Int(reg.dicts.del(dict, terms) as i64),
        SearchOp::DictDump { dict } => match reg.dicts.get(dict) {
            Some(d) => Reply::Array(d.iter().cloned().map(Reply::Bulk).collect()),
            None => err("could not open dict key"),
        },
        SearchOp::SynUpdate {
            index,
            group,
            terms,
            ..
        } => match reg.get_mut(index) {
            Some(idx) => {
                let terms: Vec<String> = terms.iter().map(|t| lossy(t)).collect();
                idx.synonyms.update(&lossy(group), &terms);
                Reply::Ok
            }
            None => err(UNKNOWN_INDEX),
        },
        SearchOp::SynDump { index } => match reg.get(index) {
            Some(idx) => syndump_reply(&idx.synonyms),
            None => err(UNKNOWN_INDEX),
        },
        _ => return None,
    })
}

/// FT.SYNDUMP's reply: `term, [group ids]` pairs (a map in RESP3).
fn syndump_reply(syn: &Synonyms) -> Reply {
    Reply::Map(
        syn.dump()
            .map(|(t, gs)| {
                (
                    Reply::bulk(t.as_bytes()),
                    Reply::Array(gs.iter().map(|g| Reply::bulk(g.as_bytes())).collect()),
                )
            })
            .collect(),
    )
}

/// A list of strings: u32 count, then u32-length-prefixed strings (little endian).
pub fn encode_strings<'a>(out: &mut Vec<u8>, list: impl ExactSizeIterator<Item = &'a [u8]>) {
    out.extend_from_slice(&(list.len() as u32).to_le_bytes());
    for a in list {
        out.extend_from_slice(&(a.len() as u32).to_le_bytes());
        out.extend_from_slice(a);
    }
}

/// Decodes one [`encode_strings`] list from the front of `b`.
pub fn decode_strings(b: &mut &[u8]) -> Result<Vec<Bytes>, String> {
    fn u32_at(b: &mut &[u8]) -> Result<usize, String> {
        let (head, rest) = b.split_first_chunk::<4>().ok_or("truncated list")?;
        *b = rest;
        Ok(u32::from_le_bytes(*head) as usize)
    }
    let n = u32_at(b)?;
    let mut list = Vec::new();
    for _ in 0..n {
        let len = u32_at(b)?;
        if b.len() < len {
            return Err("truncated list".into());
        }
        let (item, rest) = b.split_at(len);
        list.push(Bytes::copy_from_slice(item));
        *b = rest;
    }
    Ok(list)
}

/// A dictionary's snapshot value.
pub fn encode_dict(terms: &BTreeSet<Bytes>) -> Vec<u8> {
    let mut out = Vec::new();
    encode_strings(&mut out, terms.iter().map(|t| &t[..]));
    out
}

/// Decodes [`encode_dict`]'s bytes.
pub fn decode_dict(mut b: &[u8]) -> Result<Vec<Bytes>, String> {
    let terms = decode_strings(&mut b)?;
    if !b.is_empty() {
        return Err("trailing bytes after dictionary".into());
    }
    Ok(terms)
}

/// Synonym groups as one flat list: `gid, n, term × n` repeated.
pub fn synonyms_list(syn: &Synonyms) -> Vec<Bytes> {
    let mut out = Vec::new();
    for (g, terms) in syn.groups() {
        out.push(Bytes::copy_from_slice(g.as_bytes()));
        out.push(Bytes::from(terms.len().to_string()));
        out.extend(terms.iter().map(|t| Bytes::copy_from_slice(t.as_bytes())));
    }
    out
}

/// The inverse of [`synonyms_list`].
pub fn synonyms_from_list(list: &[Bytes]) -> Result<Synonyms, String> {
    let mut syn = Synonyms::default();
    let mut rest = list;
    while let [g, n, tail @ ..] = rest {
        let n: usize = std::str::from_utf8(n)
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|n| *n <= tail.len())
            .ok_or("bad synonym group")?;
        let (terms, next) = tail.split_at(n);
        let terms: Vec<String> = terms.iter().map(|t| lossy(t)).collect();
        syn.update(&lossy(g), &terms);
        rest = next;
    }
    if !rest.is_empty() {
        return Err("bad synonym group".into());
    }
    Ok(syn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn dicts_add_del_dump() {
        let mut reg = Registry::default();
        let add = SearchOp::DictAdd {
            dict: b("d"),
            terms: vec![b("foo"), b("Bar"), b("foo")],
        };
        assert_eq!(execute(&mut reg, &add), Some(Reply::Int(2)));
        assert_eq!(
            execute(&mut reg, &SearchOp::DictDump { dict: b("d") }),
            Some(Reply::Array(vec![Reply::bulk(b"Bar"), Reply::bulk(b"foo")]))
        );
        let del = SearchOp::DictDel {
            dict: b("d"),
            terms: vec![b("foo"), b("Bar"), b("x")],
        };
        assert_eq!(execute(&mut reg, &del), Some(Reply::Int(2)));
        assert!(matches!(
            execute(&mut reg, &SearchOp::DictDump { dict: b("d") }),
            Some(Reply::Err(_))
        ));
        assert_eq!(execute(&mut reg, &SearchOp::List), None);
    }

    #[test]
    fn snapshot_values_round_trip() {
        let set: BTreeSet<Bytes> = [b("a"), b("bc")].into_iter().collect();
        let enc = encode_dict(&set);
        assert_eq!(decode_dict(&enc), Ok(vec![b("a"), b("bc")]));
        assert!(decode_dict(&enc[..enc.len() - 1]).is_err());
        let mut syn = Synonyms::default();
        syn.update("g1", &["x".to_string(), "y".to_string()]);
        syn.update("g2", &["y".to_string()]);
        let list = synonyms_list(&syn);
        assert_eq!(synonyms_from_list(&list), Ok(syn));
        assert!(synonyms_from_list(&[b("g"), b("5"), b("x")]).is_err());
    }
}
