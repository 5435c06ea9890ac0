//! The `falkordb` Python client (1.8.1) against the graph server: runs
//! `tests/py/falkordb_client.py` (queries with parameters of every type, node/edge/path/map/
//! point/vecf32 decoding, statistics, errors, EXPLAIN/PROFILE, indexes, constraints, COPY,
//! LIST, DELETE, CONFIG GET/SET) with the `target/graph-venv` python.
//!
//! Server under test: Moon (`--shards 2`) by default, the real FalkorDB with
//! `MOON_TCK_FALKORDB=1`. Against a Moon without GRAPH.QUERY it prints `SKIPPED` loudly and
//! returns before creating the venv.
//!
//! Invariant: this test never passes without the program having printed `OK <n> checks`.

mod common;
#[path = "common/pyenv.rs"]
mod pyenv;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pyenv::{GraphServer, graph_venv_python, repo_root};

/// The program takes about a second; this only bounds a hang.
const PROGRAM_DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn falkordb_python_client() {
    let server =
        GraphServer::start().unwrap_or_else(|why| panic!("cannot start the server: {why}"));
    if !server.has_graph_query() {
        eprintln!(
            "\n*** SKIPPED graph_client: server has no GRAPH.QUERY yet ({} answers `unknown command`) ***\n",
            server.name()
        );
        return;
    }
    let python = graph_venv_python().unwrap_or_else(|why| panic!("graph venv: {why}"));
    let script = repo_root()
        .join("tests")
        .join("py")
        .join("falkordb_client.py");
    let out_path =
        std::env::temp_dir().join(format!("moon-graph-client-{}.out", std::process::id()));
    let out = std::fs::File::create(&out_path).expect("create output file");
    let err = out.try_clone().expect("clone output file");
    // Output goes to a file so a hung program can be killed at the deadline without a pipe
    // filling up.
    let mut child = Command::new(&python)
        .arg(&script)
        .arg(server.port().to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn the python program");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the python program") {
            break Some(status);
        }
        if started.elapsed() > PROGRAM_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    eprintln!(
        "--- falkordb_client.py against {} ---\n{output}",
        server.name()
    );
    let Some(status) = status else {
        panic!("falkordb_client.py hung for {PROGRAM_DEADLINE:?}:\n{output}");
    };
    assert!(
        status.success(),
        "falkordb_client.py failed ({status}):\n{output}"
    );
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("OK ") && l.ends_with(" checks")),
        "falkordb_client.py exited 0 without its OK line:\n{output}"
    );
}
