//! `netproof.toml` parsing on arbitrary bytes: a configuration is valid or
//! an error with a place inside the text; a valid one applies to findings
//! and answers exclusion questions without panicking; an error renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netproof::config::Config;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match Config::parse(Path::new("netproof.toml"), Path::new("/repo"), &text) {
        Ok(config) => {
            let report = netproof::check::check_source(
                "x.np",
                "vpc shop 10.0.0.1/16 {\n  subnet web 10.0.1.0/24\n}\n",
            );
            let mut diagnostics = report.diagnostics.clone();
            config.apply(&mut diagnostics);
            for path in ["/repo/a.np", "/repo/gen/deep/b.np", "/elsewhere/c.np", "a.np"] {
                let _ = config.excluded_by(Path::new(path));
            }
        }
        Err(error) => {
            if let Some(span) = &error.span {
                assert!(span.start <= text.len() + 1, "{span:?} beyond {}", text.len());
            }
            let _ = error.render();
        }
    }
});
