"""The `falkordb` Python client (1.8.1) against a GRAPH.* server: usage as applications write
it, with concrete expected values. Run by tests/graph_client.rs with the venv's python:

    python falkordb_client.py <port>

Exits 0 and prints `OK <n> checks` when every check passed; any failure raises (non-zero
exit, traceback on stderr). Graph names are prefixed `pyclient:` and deleted at the end.
"""

import math
import sys

from falkordb import FalkorDB, Node, Edge, Path
from redis.exceptions import ResponseError

CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        raise AssertionError(what)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def raises(fn, needle, what):
    try:
        fn()
    except ResponseError as e:
        check(needle in str(e), f"{what}: error {str(e)!r} lacks {needle!r}")
        return str(e)
    raise AssertionError(f"{what}: no error raised")


def main(port, skip):
    db = FalkorDB(host="127.0.0.1", port=port)
    names = [f"pyclient:{n}" for n in ("g", "copy", "idx", "cons")]
    for n in names:
        try:
            db.select_graph(n).delete()
        except ResponseError:
            pass

    g = db.select_graph(names[0])

    # --- writes and statistics
    r = g.query(
        "CREATE (:Person {name: 'Alice', age: 30, score: 1.5, tags: ['a', 'b']})"
        "-[:KNOWS {since: 2020}]->(:Person:Employee {name: 'Bob', age: 25})"
    )
    eq(r.nodes_created, 2, "nodes_created")
    eq(r.relationships_created, 1, "relationships_created")
    eq(r.properties_set, 7, "properties_set")
    eq(r.labels_added, 2, "labels_added")
    check(r.run_time_ms >= 0, "run_time_ms present")
    eq(r.result_set, [], "pure write has no rows")

    # --- parameters of every type round-trip through the CYPHER prefix
    params = {
        "i": 42,
        "neg": -7,
        "f": 2.25,
        "s": 'he said "hi" \\ bye',
        "t": True,
        "fl": False,
        "n": None,
        "l": [1, "two", 3.5, None, [True]],
        "m": {"a": 1, "b": "x", "c": [1, 2]},
    }
    r = g.query(
        "RETURN $i AS i, $neg AS neg, $f AS f, $s AS s, $t AS t, $fl AS fl, $n AS n, $l AS l, $m AS m",
        params,
    )
    eq(r.header, [[1, "i"], [1, "neg"], [1, "f"], [1, "s"], [1, "t"], [1, "fl"], [1, "n"], [1, "l"], [1, "m"]], "header")
    row = r.result_set[0]
    eq(row[0], 42, "int param")
    eq(row[1], -7, "negative int param")
    eq(row[2], 2.25, "float param")
    eq(row[3], 'he said "hi" \\ bye', "string param with quotes and backslash")
    eq(row[4], True, "bool param")
    eq(row[5], False, "false param")
    eq(row[6], None, "null param")
    eq(row[7], [1, "two", 3.5, None, [True]], "list param")
    eq(dict(row[8]), {"a": 1, "b": "x", "c": [1, 2]}, "map param")
    check(isinstance(row[2], float) and isinstance(row[0], int), "int and float types kept")

    r = g.ro_query("MATCH (p:Person) WHERE p.age > $min RETURN p.name ORDER BY p.name", {"min": 26})
    eq(r.result_set, [["Alice"]], "ro_query with parameter")

    # --- nodes, edges, paths
    r = g.query(
        "MATCH (a:Person {name: 'Alice'})-[k:KNOWS]->(b) RETURN a, k, b"
    )
    a, k, b = r.result_set[0]
    check(isinstance(a, Node) and isinstance(k, Edge) and isinstance(b, Node), "entity types")
    eq(a.labels, ["Person"], "node labels")
    eq(a.properties, {"name": "Alice", "age": 30, "score": 1.5, "tags": ["a", "b"]}, "node properties")
    eq(sorted(b.labels), ["Employee", "Person"], "multi-label node")
    eq(k.relation, "KNOWS", "edge type")
    eq(k.properties, {"since": 2020}, "edge properties")
    eq(k.src_node, a.id, "edge source id")
    eq(k.dest_node, b.id, "edge destination id")

    r = g.query("MATCH p = (:Person {name: 'Alice'})-[:KNOWS]->() RETURN p, length(p)")
    p, plen = r.result_set[0]
    check(isinstance(p, Path), "path type")
    eq(p.node_count(), 2, "path nodes")
    eq(p.edge_count(), 1, "path edges")
    eq(p.first_node().properties["name"], "Alice", "path first node")
    eq(p.last_node().properties["name"], "Bob", "path last node")
    eq(p.get_edge(0).relation, "KNOWS", "path edge type")
    eq(plen, 1, "length(p)")

    # --- scalars, containers, points, vectors
    r = g.query(
        "RETURN 1.0 AS f1, 0.1 + 0.2 AS f2, 1e308 * 10 AS big, -0.0 AS negz, 'é✓' AS uni, "
        "[1, 'x', null, [2.5]] AS l, {k: 1, n: {z: false}} AS m, "
        "point({latitude: 32.07, longitude: 34.78}) AS pt, vecf32([1.0, 2.5]) AS v, "
        "9223372036854775807 AS maxint"
    )
    f1, f2, big, negz, uni, lst, m, pt, v, maxint = r.result_set[0]
    eq(f1, 1.0, "1.0")
    check(isinstance(f1, float), "1.0 stays a float")
    check(abs(f2 - 0.3) < 1e-12, f"0.1 + 0.2 ~ 0.3, got {f2!r}")
    check(math.isinf(big), f"overflow is inf, got {big!r}")
    eq(negz, 0.0, "-0.0")
    eq(uni, "é✓", "unicode string")
    eq(lst, [1, "x", None, [2.5]], "nested list")
    eq(dict(m["n"]), {"z": False}, "nested map")
    eq(m["k"], 1, "map int")
    check(abs(pt["latitude"] - 32.07) < 1e-5 and abs(pt["longitude"] - 34.78) < 1e-5, f"point {pt!r}")
    eq([round(x, 6) for x in v], [1.0, 2.5], "vecf32")
    eq(maxint, 9223372036854775807, "i64 max")

    # --- updates: SET / REMOVE / DELETE statistics
    r = g.query("MATCH (p:Person {name: 'Bob'}) SET p.age = 26, p.city = 'Paris'")
    eq(r.properties_set, 2, "properties_set on SET")
    r = g.query("MATCH (p:Person {name: 'Bob'}) REMOVE p.city")
    eq(r.properties_removed, 1, "properties_removed")
    r = g.query("MATCH (p:Person {name: 'Bob'}) SET p:Manager")
    eq(r.labels_added, 1, "labels_added by SET")
    r = g.query("CREATE (:Temp)-[:T]->(:Temp)")
    r = g.query("MATCH (t:Temp) DETACH DELETE t")
    eq(r.nodes_deleted, 2, "nodes_deleted")
    eq(r.relationships_deleted, 1, "relationships_deleted")
    r = g.query("UNWIND range(1, 5) AS i CREATE (:N {i: i}) RETURN count(*) AS c")
    eq(r.result_set, [[5]], "UNWIND CREATE count")
    eq(r.nodes_created, 5, "UNWIND nodes_created")

    # --- errors
    raises(lambda: g.query("MATCH (n RETURN n"), "Invalid input", "syntax error")
    raises(lambda: g.ro_query("CREATE (:X)"), "is to be executed only on read-only queries", "RO write")
    raises(lambda: g.query("RETURN nosuchfn(1)"), "Unknown function 'nosuchfn'", "unknown function")
    raises(lambda: g.query("RETURN x"), "'x' not defined", "unbound variable")
    raises(lambda: g.query("RETURN 1 / 0"), "Division by zero", "division by zero")
    raises(lambda: g.query("RETURN $missing"), "Missing parameters", "missing parameter")
    eq(g.query("RETURN 1").result_set, [[1]], "connection usable after errors")

    # --- explain / profile
    plan = g.explain("MATCH (p:Person) WHERE p.age > 20 RETURN p.name ORDER BY p.name LIMIT 1")
    lines = [str(line) for line in plan.plan]
    eq(lines[0], "Results", "explain root")
    check(any("Node By Label Scan | (p:Person)" in l for l in lines), f"label scan in {lines}")
    check(all(l == l.lstrip() or (len(l) - len(l.lstrip())) % 4 == 0 for l in lines), "4-space indents")
    eq(plan.structured_plan.name, "Results", "structured plan root")
    eq(len(g.query("MATCH (n:Explained) RETURN n").result_set), 0, "explain did not execute")
    prof = g.profile("MATCH (p:Person) RETURN p.age, count(p)")
    check(all("Records produced" in str(l) for l in prof.plan), f"profile suffix: {prof.plan}")
    scan = prof.collect_operations("Node By Label Scan")
    eq(len(scan), 1, "one label scan operator")
    eq(scan[0].profile_stats.records_produced, 2, "label scan records produced")
    agg = prof.collect_operations("Aggregate")
    eq(len(agg), 1, "one Aggregate operator")
    eq(agg[0].profile_stats.records_produced, 2, "Aggregate records produced (2 ages)")

    # --- indexes
    gi = db.select_graph(names[2])
    gi.query("CREATE (:P {id: 1, name: 'a'})-[:R {w: 1}]->(:P {id: 2, name: 'b'})")
    r = gi.create_node_range_index("P", "id")
    eq(r.indices_created, 1, "node range index created")
    r = gi.create_edge_range_index("R", "w")
    eq(r.indices_created, 1, "edge range index created")
    raises(lambda: gi.create_node_range_index("P", "id"), "already indexed", "duplicate index")
    idx = gi.list_indices().result_set
    labels = sorted(row[0] for row in idx)
    eq(labels, ["P", "R"], "list_indices labels")
    p_row = [row for row in idx if row[0] == "P"][0]
    eq(p_row[1], ["id"], "indexed properties")
    plan = [str(l) for l in gi.explain("MATCH (p:P) WHERE p.id = 2 RETURN p.name").plan]
    check(any("Node By Index Scan" in l for l in plan), f"index used: {plan}")
    eq(gi.query("MATCH (p:P) WHERE p.id = 2 RETURN p.name").result_set, [["b"]], "indexed lookup")

    # --- constraints (mandatory: no index needed)
    gc = db.select_graph(names[3])
    gc.query("CREATE (:C {name: 'x'})")
    if "constraints" in skip:
        print("SKIPPED constraint checks (the caller says the server has no GRAPH.CONSTRAINT)")
    else:
        gc.create_node_mandatory_constraint("C", "name")
        cons = gc.list_constraints()
        eq(len(cons), 1, "one constraint")
        eq((cons[0]["type"], cons[0]["label"], cons[0]["properties"]), ("MANDATORY", "C", ["name"]), "constraint row")
        import time as _t
        for _ in range(100):
            if gc.list_constraints()[0]["status"] == "OPERATIONAL":
                break
            _t.sleep(0.02)
        eq(gc.list_constraints()[0]["status"], "OPERATIONAL", "constraint built")
        raises(lambda: gc.query("CREATE (:C)"), "mandatory constraint violation", "constraint enforced")
        # unique: the client creates the supporting range index (here it already exists)
        gi.create_node_unique_constraint("P", "id")
        for _ in range(100):
            if [c["status"] for c in gi.list_constraints() if c["type"] == "UNIQUE"] == ["OPERATIONAL"]:
                break
            _t.sleep(0.02)
        eq([(c["type"], c["status"]) for c in gi.list_constraints()], [("UNIQUE", "OPERATIONAL")], "unique built")
        raises(lambda: gi.query("CREATE (:P {id: 2})"), "unique constraint violation", "unique enforced")
        gi.drop_node_unique_constraint("P", "id")
        eq(gi.list_constraints(), [], "unique dropped")
        gc.drop_node_mandatory_constraint("C", "name")
        eq(gc.list_constraints(), [], "mandatory dropped")
        gc.query("CREATE (:C)")

    # --- copy, list, delete
    g.copy(names[1])
    gcopy = db.select_graph(names[1])
    eq(gcopy.ro_query("MATCH (p:Person) RETURN count(p)").result_set, [[2]], "copy has the data")
    listed = db.list_graphs()
    for n in names:
        check(n in listed, f"{n} in list_graphs {listed}")

    # --- config
    old = db.config_get("RESULTSET_SIZE")
    eq(old, -1, "RESULTSET_SIZE default")
    db.config_set("RESULTSET_SIZE", 3)
    eq(db.config_get("RESULTSET_SIZE"), 3, "config_set took effect")
    eq(len(g.query("UNWIND range(1, 10) AS x RETURN x").result_set), 3, "RESULTSET_SIZE caps rows")
    db.config_set("RESULTSET_SIZE", old)
    eq(len(g.query("UNWIND range(1, 10) AS x RETURN x").result_set), 10, "cap removed")
    try:
        db.config_get("NO_SUCH_FIELD")
        raise AssertionError("unknown config field accepted")
    except ResponseError as e:
        check("Unknown configuration field" in str(e), f"config error text {e}")

    for n in names:
        db.select_graph(n).delete()
    listed = db.list_graphs()
    for n in names:
        check(n not in listed, f"{n} deleted")
    raises(lambda: db.select_graph(names[0]).delete(), "empty key", "delete missing graph")
    print(f"OK {CHECKS} checks")


if __name__ == "__main__":
    main(int(sys.argv[1]), set(sys.argv[2].split(",")) if len(sys.argv) > 2 else set())
