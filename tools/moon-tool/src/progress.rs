//! Progress bars for long runs and the buffered stdout every command writes its results to.
//!
//! Invariants: a bar is drawn only on stderr and only when stderr is a terminal and the run is
//! long enough to deserve one (at least [`MIN_BYTES`] of input), so piped output (`dump |
//! redis-cli --pipe`, tests) never sees a progress byte.

use std::io::{self, IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish too fast for a bar to be useful.
pub const MIN_BYTES: u64 = 32 << 20;

/// A byte-count progress bar, hidden when not useful.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total` input bytes, labelled `what`.
    pub fn new(total: u64, what: &str) -> Progress {
        let bar = if total >= MIN_BYTES && io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(what.to_owned());
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// `n` more bytes processed.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints a line to stderr without tearing the bar.
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}

/// Buffered stdout; a closed pipe (`| head`) ends the program quietly instead of erroring.
pub struct Out {
    w: io::BufWriter<io::Stdout>,
}

impl Default for Out {
    fn default() -> Self {
        Out {
            w: io::BufWriter::with_capacity(1 << 16, io::stdout()),
        }
    }
}

impl Out {
    /// Writes bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        if let Err(e) = self.w.write_all(b) {
            closed(e);
        }
    }

    /// Writes a line.
    pub fn line(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.bytes(b"\n");
    }

    /// Flushes.
    pub fn flush(&mut self) {
        if let Err(e) = self.w.flush() {
            closed(e);
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        let _ = self.w.flush();
    }
}

fn closed(e: io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("moon-tool: writing output: {e}");
    std::process::exit(1);
}
