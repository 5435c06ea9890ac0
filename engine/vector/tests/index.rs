//! Behaviour of `VectorIndex` against brute force: FLAT exactness, HNSW recall, deletes and
//! updates, filters and the planner, range queries, TurboQuant + rerank, snapshots.

use moon_vector::synthetic::{brute_force, clustered, recall};
use moon_vector::{
    Algorithm, ElementType, Metric, RoaringBitmap, SearchPlan, VectorIndex, VectorParams,
    encode_blob,
};

const DIM: usize = 64;

fn data(n: usize, seed: u64) -> Vec<f32> {
    clustered(n, DIM, 100, 1.0, seed)
}

/// Cheaper construction for tests that are not about recall at the defaults.
fn quick(params: VectorParams) -> VectorParams {
    VectorParams {
        ef_construction: 64,
        ..params
    }
}

fn build(params: VectorParams, data: &[f32]) -> VectorIndex {
    let dim = params.dim;
    let mut idx = VectorIndex::new(params).unwrap();
    for (i, v) in data.chunks_exact(dim).enumerate() {
        idx.insert(i as u32, v).unwrap();
    }
    idx
}

fn mean_recall(
    idx: &VectorIndex,
    data: &[f32],
    queries: &[f32],
    metric: Metric,
    ef: Option<usize>,
) -> f64 {
    let nq = queries.len() / DIM;
    let mut total = 0.0;
    for q in queries.chunks_exact(DIM) {
        let truth = brute_force(data, DIM, metric, q, 10);
        let got = idx.knn(q, 10, ef, None).unwrap();
        assert_eq!(got.len(), 10);
        assert!(got.windows(2).all(|w| w[0].1 <= w[1].1), "sorted by score");
        total += recall(&got, &truth);
    }
    total / nq as f64
}

#[test]
fn flat_is_exact_for_every_metric() {
    let d = data(1500, 1);
    let qs = data(20, 2);
    for metric in [Metric::L2, Metric::Ip, Metric::Cosine] {
        let idx = build(VectorParams::flat(DIM, metric), &d);
        for q in qs.chunks_exact(DIM) {
            let truth = brute_force(&d, DIM, metric, q, 10);
            let got = idx.knn(q, 10, None, None).unwrap();
            assert_eq!(
                got.iter().map(|x| x.0).collect::<Vec<_>>(),
                truth.iter().map(|x| x.0).collect::<Vec<_>>()
            );
            for (g, t) in got.iter().zip(&truth) {
                assert!((g.1 - t.1).abs() <= 1e-4 * t.1.abs().max(1.0));
            }
        }
    }
}

#[test]
fn flat_remove_update_and_filter() {
    let d = data(300, 3);
    let mut idx = build(VectorParams::flat(DIM, Metric::L2), &d);
    let q = &d[5 * DIM..6 * DIM];
    assert_eq!(idx.knn(q, 1, None, None).unwrap()[0], (5, 0.0));
    assert!(idx.remove(5));
    assert!(!idx.remove(5));
    assert_eq!(idx.len(), 299);
    assert_ne!(idx.knn(q, 1, None, None).unwrap()[0].0, 5);
    // Update id 7 to the vector of 5: the nearest to q is now 7 at distance 0.
    idx.insert(7, q).unwrap();
    assert_eq!(idx.knn(q, 1, None, None).unwrap()[0], (7, 0.0));
    assert_eq!(idx.len(), 299);
    let filter: RoaringBitmap = (100..120).collect();
    let got = idx.knn(q, 5, None, Some(&filter)).unwrap();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|(id, _)| (100..120).contains(id)));
    let sub: Vec<f32> = d[100 * DIM..120 * DIM].to_vec();
    let truth: Vec<u32> = brute_force(&sub, DIM, Metric::L2, q, 5)
        .iter()
        .map(|x| x.0 + 100)
        .collect();
    assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), truth);
    // Wrong dimension is an error, not a panic.
    assert!(idx.insert(1, &[1.0; 3]).is_err());
    assert!(idx.knn(&[1.0; 3], 3, None, None).is_err());
}

#[test]
fn hnsw_recall_at_default_parameters() {
    let d = data(5000, 4);
    let qs = data(100, 5);
    for metric in [Metric::L2, Metric::Cosine] {
        let idx = build(VectorParams::hnsw(DIM, metric), &d);
        idx.as_hnsw().unwrap().check_invariants().unwrap();
        // EF_RUNTIME 10 < k = 10 is raised to k.
        let r = mean_recall(&idx, &d, &qs, metric, None);
        assert!(r >= 0.95, "{metric:?} recall {r}");
        let r100 = mean_recall(&idx, &d, &qs, metric, Some(100));
        assert!(r100 >= r && r100 >= 0.99, "{metric:?} recall@ef100 {r100}");
    }
}

#[test]
fn hnsw_deletes_and_reinserts_keep_recall() {
    let n = 5000;
    let d = data(n, 6);
    let qs = data(100, 7);
    let mut idx = build(VectorParams::hnsw(DIM, Metric::L2), &d);
    let before = mean_recall(&idx, &d, &qs, Metric::L2, None);
    // Delete 30% (every id ≡ 0, 3, 6 mod 10), check the rest, then re-insert them.
    let gone: Vec<u32> = (0..n as u32)
        .filter(|i| i % 10 % 3 == 0 && i % 10 < 9)
        .collect();
    for &id in &gone {
        assert!(idx.remove(id));
    }
    assert_eq!(idx.len(), n - gone.len());
    idx.as_hnsw().unwrap().check_invariants().unwrap();
    let allowed: Vec<f32> = (0..n)
        .filter(|i| !gone.contains(&(*i as u32)))
        .flat_map(|i| d[i * DIM..(i + 1) * DIM].to_vec())
        .collect();
    let ids: Vec<u32> = (0..n as u32).filter(|i| !gone.contains(i)).collect();
    let mut total = 0.0;
    for q in qs.chunks_exact(DIM) {
        let truth: Vec<(u32, f32)> = brute_force(&allowed, DIM, Metric::L2, q, 10)
            .iter()
            .map(|&(i, s)| (ids[i as usize], s))
            .collect();
        let got = idx.knn(q, 10, None, None).unwrap();
        assert!(
            got.iter().all(|(id, _)| !gone.contains(id)),
            "deleted id returned"
        );
        total += recall(&got, &truth);
    }
    // With 30% tombstones the beam at EF_RUNTIME 10 loses a little; the graph stays connected.
    let r = total / 100.0;
    assert!(
        r >= before - 0.03 && r >= 0.93,
        "recall after deletes {r} (before {before})"
    );
    for &id in &gone {
        let i = id as usize;
        idx.insert(id, &d[i * DIM..(i + 1) * DIM]).unwrap();
    }
    let h = idx.as_hnsw().unwrap();
    h.check_invariants().unwrap();
    assert_eq!(h.slots(), n, "deleted slots were reused");
    let r = mean_recall(&idx, &d, &qs, Metric::L2, None);
    assert!(r >= 0.95, "recall after re-insert {r}");
    // Updates: move 1000 vectors to other positions (delete + insert under the same id).
    let moved = data(800, 8);
    let mut all = d.clone();
    for (j, v) in moved.chunks_exact(DIM).enumerate() {
        let id = (j * 6) as u32;
        idx.insert(id, v).unwrap();
        all[id as usize * DIM..(id as usize + 1) * DIM].copy_from_slice(v);
    }
    assert_eq!(idx.len(), n);
    let r = mean_recall(&idx, &all, &qs, Metric::L2, None);
    assert!(r >= 0.95, "recall after updates {r}");
}

#[test]
fn hnsw_filtered_knn_matches_brute_force_on_the_filter() {
    let n = 5000;
    let d = data(n, 9);
    let qs = data(30, 10);
    let idx = build(quick(VectorParams::hnsw(DIM, Metric::L2)), &d);
    for (fraction, expect) in [
        (2u32, SearchPlan::BruteForce),
        (3, SearchPlan::Index),
        (50, SearchPlan::Index),
    ] {
        // `fraction` % of ids allowed (every id whose hash mod 100 < fraction).
        let filter: RoaringBitmap = (0..n as u32)
            .filter(|i| i.wrapping_mul(2654435761) % 100 < fraction)
            .collect();
        assert_eq!(
            idx.plan(Some(&filter)),
            if fraction < 5 {
                SearchPlan::BruteForce
            } else {
                expect
            }
        );
        let ids: Vec<u32> = filter.iter().collect();
        let sub: Vec<f32> = ids
            .iter()
            .flat_map(|&i| d[i as usize * DIM..(i as usize + 1) * DIM].to_vec())
            .collect();
        let mut total_graph = 0.0;
        for q in qs.chunks_exact(DIM) {
            let truth: Vec<(u32, f32)> = brute_force(&sub, DIM, Metric::L2, q, 10)
                .iter()
                .map(|&(i, s)| (ids[i as usize], s))
                .collect();
            let bf = idx
                .knn_with_plan(q, 10, None, Some(&filter), SearchPlan::BruteForce)
                .unwrap();
            assert_eq!(
                bf.iter().map(|x| x.0).collect::<Vec<_>>(),
                truth.iter().map(|x| x.0).collect::<Vec<_>>()
            );
            let g = idx
                .knn_with_plan(q, 10, Some(100), Some(&filter), SearchPlan::Index)
                .unwrap();
            assert!(g.iter().all(|(id, _)| filter.contains(*id)));
            total_graph += recall(&g, &truth);
            let auto = idx.knn(q, 10, Some(100), Some(&filter)).unwrap();
            assert!(auto.iter().all(|(id, _)| filter.contains(*id)));
        }
        let r = total_graph / 30.0;
        assert!(r >= 0.9, "graph recall with {fraction}% filter: {r}");
    }
}

#[test]
fn range_queries_match_brute_force() {
    let n = 4000;
    let d = data(n, 11);
    let qs = data(20, 12);
    let flat = build(VectorParams::flat(DIM, Metric::L2), &d);
    let hnsw = build(quick(VectorParams::hnsw(DIM, Metric::L2)), &d);
    let mut found = 0usize;
    let mut found_wide = 0usize;
    let mut expected = 0usize;
    for q in qs.chunks_exact(DIM) {
        let all = brute_force(&d, DIM, Metric::L2, q, n);
        let radius = all[30].1; // ~31 results
        let truth: Vec<u32> = all.iter().filter(|x| x.1 <= radius).map(|x| x.0).collect();
        let f = flat.range(q, radius, None, None).unwrap();
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), truth);
        let h = hnsw.range(q, radius, None, None).unwrap();
        assert!(h.iter().all(|x| x.1 <= radius));
        assert!(h.windows(2).all(|w| w[0].1 <= w[1].1));
        found += h.len();
        let wide = hnsw.range(q, radius, Some(0.2), None).unwrap();
        assert!(wide.len() >= h.len() && wide.iter().all(|x| x.1 <= radius));
        found_wide += wide.len();
        expected += truth.len();
        let filter: RoaringBitmap = truth.iter().copied().filter(|i| i % 2 == 0).collect();
        let fh = flat.range(q, radius, None, Some(&filter)).unwrap();
        assert_eq!(fh.len() as u64, filter.len());
    }
    let r = found as f64 / expected as f64;
    let wide = found_wide as f64 / expected as f64;
    assert!(r >= 0.85, "graph range recall at EPSILON 0.01: {r}");
    assert!(wide >= 0.97, "graph range recall at EPSILON 0.2: {wide}");
}

#[test]
fn turboquant_recall_and_memory() {
    let d = data(4000, 13);
    let qs = data(100, 14);
    let fp32 = build(VectorParams::hnsw(DIM, Metric::L2), &d);
    let mut prev = 0.0;
    for bits in [1u8, 2, 4, 8] {
        let p = VectorParams {
            quant_bits: Some(bits),
            rerank: 100,
            ..VectorParams::hnsw(DIM, Metric::L2)
        };
        let idx = build(p, &d);
        let r = mean_recall(&idx, &d, &qs, Metric::L2, Some(100));
        if bits >= 4 {
            assert!(r >= 0.95, "TQ{bits} + rerank recall {r}");
        }
        assert!(
            r + 0.02 >= prev,
            "TQ{bits} recall {r} below TQ with fewer bits {prev}"
        );
        prev = r;
        assert_eq!(idx.info().quantization, format!("TQ{bits}"));
    }
    // FLAT + TQ4 with rerank is near exact.
    let p = VectorParams {
        quant_bits: Some(4),
        rerank: 50,
        ..VectorParams::flat(DIM, Metric::Cosine)
    };
    let flat = build(p, &d);
    let r = mean_recall(&flat, &d, &qs, Metric::Cosine, None);
    assert!(r >= 0.98, "FLAT TQ4 recall {r}");
    // Disk-resident rows: RAM per vector is codes + norm + links, far below f32.
    let path = std::env::temp_dir().join(format!("moon-vector-it-{}.vec", std::process::id()));
    let p = VectorParams {
        quant_bits: Some(4),
        rerank: 100,
        disk_path: Some(path.clone()),
        ..VectorParams::hnsw(DIM, Metric::L2)
    };
    let disk = build(p, &d);
    assert!(path.exists());
    let r = mean_recall(&disk, &d, &qs, Metric::L2, Some(100));
    assert!(r >= 0.95, "disk TQ4 recall {r}");
    assert!(disk.bytes_per_vector() < fp32.bytes_per_vector() / 1.5);
    assert!(disk.memory_usage() < fp32.memory_usage());
    drop(disk);
    assert!(!path.exists());
}

#[test]
fn snapshot_round_trip_and_rebuild() {
    let d = data(2000, 15);
    let qs = data(20, 16);
    for params in [
        VectorParams::hnsw(DIM, Metric::Cosine),
        VectorParams::flat(DIM, Metric::Ip),
        VectorParams {
            quant_bits: Some(4),
            rerank: 40,
            ..VectorParams::hnsw(DIM, Metric::L2)
        },
    ] {
        let mut idx = build(quick(params.clone()), &d);
        for id in (0..2000).step_by(7) {
            idx.remove(id);
        }
        let mut buf = Vec::new();
        idx.encode(&mut buf);
        let back = VectorIndex::decode(&buf).unwrap();
        assert_eq!(back.len(), idx.len());
        assert_eq!(back.params(), idx.params());
        let mut again = Vec::new();
        back.encode(&mut again);
        assert_eq!(again, buf, "encode(decode(x)) == x");
        let rebuilt = idx.rebuild(None).unwrap();
        let mut slim = Vec::new();
        idx.encode_without_graph(&mut slim);
        let from_slim = VectorIndex::decode(&slim).unwrap();
        assert_eq!(from_slim.len(), idx.len());
        for q in qs.chunks_exact(DIM) {
            let a = idx.knn(q, 10, Some(50), None).unwrap();
            assert_eq!(
                back.knn(q, 10, Some(50), None).unwrap(),
                a,
                "{:?}",
                params.algorithm
            );
            let b = rebuilt.knn(q, 10, Some(50), None).unwrap();
            assert!(recall(&b, &a) >= 0.8);
            assert_eq!(
                from_slim.knn(q, 10, Some(50), None).unwrap(),
                b,
                "slim decode = rebuild"
            );
        }
        // Continued inserts after decode behave like before.
        let mut idx2 = VectorIndex::decode(&buf).unwrap();
        idx2.insert(100_000, &d[..DIM]).unwrap();
        idx.insert(100_000, &d[..DIM]).unwrap();
        if let (Some(a), Some(b)) = (idx.as_hnsw(), idx2.as_hnsw()) {
            a.check_invariants().unwrap();
            b.check_invariants().unwrap();
        }
        assert_eq!(
            idx2.knn(&d[..DIM], 5, Some(50), None).unwrap(),
            idx.knn(&d[..DIM], 5, Some(50), None).unwrap()
        );
        // Truncations are errors with offsets, never panics.
        for cut in [0, 1, 10, 60, 61, buf.len() / 2, buf.len() - 1] {
            let e = VectorIndex::decode(&buf[..cut]).unwrap_err();
            assert!(e.offset <= cut, "{e}");
        }
    }
}

#[test]
fn blobs_and_info() {
    let mut p = VectorParams::hnsw(4, Metric::L2);
    p.data_type = ElementType::Float16;
    let mut idx = VectorIndex::new(p).unwrap();
    idx.insert_blob(1, &encode_blob(ElementType::Float16, &[1.0, 2.0, 3.0, 4.0]))
        .unwrap();
    assert!(idx.insert_blob(2, &[0u8; 7]).is_err());
    assert_eq!(idx.len(), 1);
    let q = idx
        .parse_query_blob(&encode_blob(ElementType::Float16, &[1.0, 2.0, 3.0, 5.0]))
        .unwrap();
    assert_eq!(idx.knn(&q, 3, None, None).unwrap(), vec![(1, 1.0)]);
    let info = idx.info();
    assert_eq!(
        (info.algorithm, info.data_type, info.distance_metric),
        ("HNSW", "FLOAT16", "L2")
    );
    assert_eq!(
        (info.dim, info.m, info.ef_construction, info.ef_runtime),
        (4, 16, 200, 10)
    );
    assert_eq!(info.quantization, "NONE");
    assert!(info.memory > 0);
    assert!(idx.remove(1));
    assert!(idx.is_empty());
    assert!(idx.knn(&q, 3, None, None).unwrap().is_empty());
    idx.insert(9, &[0.0; 4]).unwrap();
    assert_eq!(idx.knn(&q, 3, None, None).unwrap().len(), 1);
    for bad in [
        VectorParams {
            m: 1,
            ..VectorParams::hnsw(4, Metric::L2)
        },
        VectorParams {
            dim: 0,
            ..VectorParams::hnsw(4, Metric::L2)
        },
        VectorParams {
            quant_bits: Some(3),
            ..VectorParams::hnsw(4, Metric::L2)
        },
        VectorParams {
            epsilon: f32::NAN,
            ..VectorParams::hnsw(4, Metric::L2)
        },
    ] {
        assert!(VectorIndex::new(bad).is_err());
    }
    assert_eq!(VectorParams::flat(4, Metric::L2).algorithm, Algorithm::Flat);
}

/// `k` comes from the network and RERANK from a snapshot: huge values must neither allocate by
/// them nor panic (regression: the fuzzer found FLAT sizing its heap by RERANK).
#[test]
fn huge_k_and_rerank_do_not_allocate_by_them() {
    let d = data(50, 17);
    for params in [
        VectorParams {
            quant_bits: Some(4),
            rerank: usize::MAX / 2,
            ..VectorParams::flat(DIM, Metric::L2)
        },
        VectorParams {
            quant_bits: Some(4),
            rerank: usize::MAX / 2,
            ..VectorParams::hnsw(DIM, Metric::L2)
        },
        VectorParams::hnsw(DIM, Metric::Ip),
    ] {
        let idx = build(params, &d);
        let q = &d[..DIM];
        assert_eq!(idx.knn(q, usize::MAX, None, None).unwrap().len(), 50);
        assert_eq!(
            idx.knn(q, usize::MAX, Some(usize::MAX), None)
                .unwrap()
                .len(),
            50
        );
        let f: RoaringBitmap = [1u32, 2, 3].into_iter().collect();
        for plan in [SearchPlan::BruteForce, SearchPlan::Index] {
            let got = idx
                .knn_with_plan(q, usize::MAX, None, Some(&f), plan)
                .unwrap();
            assert_eq!(got.len(), 3);
        }
    }
}

/// Without an EF_RUNTIME the beam grows with k (recall ≥ 0.95 at the defaults); an explicit
/// EF_RUNTIME, on the field or the query, is honoured as given.
#[test]
fn automatic_beam_and_explicit_ef_runtime() {
    use moon_vector::AUTO_BEAM_PER_K;
    let idx = VectorIndex::new(VectorParams::hnsw(DIM, Metric::L2)).unwrap();
    assert!(idx.params().ef_runtime_auto);
    assert_eq!(idx.beam(10, None), 10 * AUTO_BEAM_PER_K);
    assert_eq!(idx.beam(1, None), 10);
    assert_eq!(idx.beam(10, Some(7)), 7);
    let fixed = VectorIndex::new(VectorParams {
        ef_runtime: 12,
        ef_runtime_auto: false,
        ..VectorParams::hnsw(DIM, Metric::L2)
    })
    .unwrap();
    assert_eq!(fixed.beam(10, None), 12);
    assert!(!fixed.info().ef_runtime_auto);
    // The flag survives a snapshot.
    let mut buf = Vec::new();
    fixed.encode(&mut buf);
    assert!(!VectorIndex::decode(&buf).unwrap().params().ef_runtime_auto);
    buf.clear();
    idx.encode(&mut buf);
    assert!(VectorIndex::decode(&buf).unwrap().params().ef_runtime_auto);
}
