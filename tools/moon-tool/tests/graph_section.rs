//! moon-tool over snapshot section 3 (graphs): inspect lists each graph with its counts, verify
//! checks the runs and decodes them, dump emits them, and a damaged graph block is located by
//! offset and dropped whole by repair (whose copy then verifies).

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use moon_engine::shard::{GRAPH_CHUNK, SnapshotOut};
use moon_formats::snapshot::{
    Section, SnapshotHeader, SnapshotReader, SnapshotWriter, snapshot_file_name,
};
use moon_graph::{Graph, Value};

const LSN: u64 = 0;

/// A graph whose encoding takes several blocks: 3000 labelled nodes in a chain.
fn graph() -> Graph {
    let mut g = Graph::new();
    let item = g.intern_label("Item");
    let next = g.intern_rel_type("NEXT");
    let name = g.intern_prop_key("name");
    let mut prev = None;
    for i in 0..3000 {
        let v = Value::String(format!("item-{i:05}-with-some-padding").into());
        let id = g.create_node(&[item], vec![(name, v)]).expect("node");
        if let Some(p) = prev {
            g.create_edge(p, id, next, vec![]).expect("edge");
        }
        prev = Some(id);
    }
    g
}

/// A one-shard data dir whose snapshot holds a string and the graph `g` (db 2).
fn data_dir(tmp: &Path) -> (PathBuf, Vec<u64>) {
    let data = tmp.join("data");
    let shard = data.join("shard-000");
    fs::create_dir_all(&shard).expect("mkdir");
    let mut w = SnapshotWriter::new(Vec::new(), &SnapshotHeader::new(0, 1, LSN, 1)).expect("w");
    w.add_entry(
        0,
        b"plain",
        0,
        &moon_engine::cmd::dump::codec::seal_payload(vec![0, 1, b'v']),
    )
    .expect("entry");
    let g = graph();
    let mut chunks = g.encode_chunks(GRAPH_CHUNK).map(Cow::Owned);
    w.graph(2, b"g", 0, &mut chunks).expect("graph");
    let bytes = w.finish().expect("finish").0;
    let r = SnapshotReader::new(&bytes).expect("reader");
    let graph_blocks = r
        .blocks()
        .map(|b| b.expect("block"))
        .filter(|b| b.section == Section::Graph)
        .map(|b| b.offset)
        .collect();
    fs::write(shard.join(snapshot_file_name(LSN)), &bytes).expect("write");
    (data, graph_blocks)
}

fn tool(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_moon-tool"));
    for a in args {
        c.arg(a);
    }
    c.output().expect("run moon-tool")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn inspect_verify_dump_and_repair_graphs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (data, blocks) = data_dir(tmp.path());
    assert!(blocks.len() >= 3, "{} graph blocks", blocks.len());

    let o = tool(&[&"inspect", &data]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let text = show(&o);
    assert!(
        text.contains(&format!(
            "graph db 2 key g at offset {} ({} blocks,",
            blocks[0],
            blocks.len()
        )) && text.contains("3000 nodes, 2999 relationships; labels: Item 3000; types: NEXT 2999"),
        "{text}"
    );
    assert!(text.contains("db 2: 1 entries (graph 1)"), "{text}");

    let o = tool(&[&"verify", &data]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));

    let o = tool(&[&"dump", &data]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.contains("\"graph\""))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{}", show(&o)));
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(v["db"], 2);
    assert_eq!(v["value"]["nodes"], 3000);
    assert_eq!(v["value"]["relationships"], 2999);

    // An intact graph survives repair byte for byte.
    let fixed = tmp.path().join("fixed");
    let o = tool(&[&"repair", &data, &"--out", &fixed]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let name = snapshot_file_name(LSN);
    assert!(
        fs::read(data.join("shard-000").join(&name)).expect("a")
            == fs::read(fixed.join("shard-000").join(&name)).expect("b")
    );

    // A flipped byte in the middle block: located by verify and inspect, dropped by repair.
    let snap = data.join("shard-000").join(&name);
    let mut b = fs::read(&snap).expect("read");
    let at = blocks[1] as usize + 60;
    b[at] ^= 0x10;
    fs::write(&snap, &b).expect("write");
    let o = tool(&[&"verify", &data]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let text = show(&o);
    assert!(
        text.contains(&format!(":{}: error: ", blocks[1])) && text.contains("checksum"),
        "{text}"
    );
    assert!(
        text.contains(&format!(":{}: error: graph db 2 key g", blocks[2])),
        "the broken run is reported at the part after the gap: {text}"
    );
    let o = tool(&[&"inspect", &data]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(show(&o).contains("DAMAGED at offset"), "{}", show(&o));
    let fixed = tmp.path().join("fixed2");
    let o = tool(&[&"repair", &data, &"--out", &fixed]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        show(&o).contains("LOST: graph db 2 key g (blocks from offset"),
        "{}",
        show(&o)
    );
    let o = tool(&[&"verify", &fixed]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let kept = fs::read(fixed.join("shard-000").join(&name)).expect("repaired");
    let r = SnapshotReader::new(&kept).expect("complete");
    assert!(
        r.blocks()
            .all(|b| b.expect("block").section != Section::Graph),
        "no part of the damaged graph is kept"
    );
    assert_eq!(r.footer().entry_count, 1, "the string is kept");
}
