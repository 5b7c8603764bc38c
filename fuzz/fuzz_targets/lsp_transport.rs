//! Feeds arbitrary bytes to the language server as its input stream: first
//! to the framing reader alone, then to a whole session (reader, server,
//! writer) in memory, run in sequence on one thread
//! (`transport::session_in_sequence`: the same parts as `netproof lsp`,
//! without threads that LeakSanitizer would misread). Neither may panic,
//! and everything the server writes back must be well framed. Run with `cargo +nightly fuzz run
//! lsp_transport` from the repository root; the server logs each bad frame
//! to standard error, so `-- -close_fd_mask=2` keeps the output readable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netproof::lsp::transport;

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    while let Ok(Some(_)) = transport::read(&mut input) {}

    let (status, output) = transport::session_in_sequence(data, false);
    assert!(status <= 1, "exit status {status}");
    let mut written = output.as_slice();
    loop {
        match transport::read(&mut written) {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(broken) => panic!("the server wrote a broken frame: {broken}"),
        }
    }
});
