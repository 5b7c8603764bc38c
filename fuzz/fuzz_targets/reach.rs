//! `netproof reach` on arbitrary bytes: the first three lines are the
//! `--from`, `--to` and `--service` arguments (a `--to` line `DST@AT` also
//! gives `--at AT`), the rest is the design. The answer (human and JSON)
//! and the matrix must come without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut parts = text.splitn(4, '\n');
    let (Some(from), Some(to), Some(service), Some(design)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (to, at) = match to.split_once('@') {
        Some((to, at)) => (to, Some(at)),
        None => (to, None),
    };
    for json in [false, true] {
        let _ = netproof::reach::query_answer(
            "fuzz.np".into(),
            design.to_string(),
            netproof::reach::Query {
                from,
                to,
                at,
                services: service,
            },
            json,
        );
    }
    // The matrix walks every subnet pair: keep it to small designs.
    if design.len() < 2048 {
        let _ = netproof::reach::matrix("fuzz.np".into(), design.to_string(), true);
    }
});
