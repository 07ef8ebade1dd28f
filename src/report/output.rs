//! Where a command's output goes: a writer that remembers when its reader went away.
//! A closed pipe (`nats-doctor lint | head`) is not an error: the printer stops at its
//! next write, and the command goes on to exit as it would have. This is the one place
//! that knows what a closed pipe looks like.

use std::io::{self, Write};

/// Standard output (or any writer), for the printers.
pub struct Output<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> Output<W> {
    pub fn new(inner: W) -> Self {
        Output {
            inner,
            closed: false,
        }
    }

    /// Whether the reader has gone away; nothing more is written then.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// What a printer's work came to: a write that failed because the reader went away
    /// is not an error.
    pub fn done(&self, printed: io::Result<()>) -> io::Result<()> {
        match printed {
            Err(_) if self.closed => Ok(()),
            other => other,
        }
    }

    /// Flushes what is buffered, as [`Output::done`] judges it.
    pub fn finish(&mut self) -> io::Result<()> {
        let flushed = self.flush();
        self.done(flushed)
    }

    fn noted<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(error) = &result {
            if error.kind() == io::ErrorKind::BrokenPipe {
                self.closed = true;
            }
        }
        result
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let written = self.inner.write(buffer);
        self.noted(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let flushed = self.inner.flush();
        self.noted(flushed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_stops_the_printer_and_is_not_an_error() {
        let mut out = Output::new(ClosedPipe);
        let printed = writeln!(out, "first").and_then(|()| writeln!(out, "second"));
        assert!(printed.is_err());
        assert!(out.is_closed());
        assert!(out.done(printed).is_ok());
        assert!(out.finish().is_ok());
    }

    #[test]
    fn other_errors_are_errors() {
        let out = Output::new(Vec::new());
        assert!(out.done(Err(io::ErrorKind::Other.into())).is_err());
        assert!(!out.is_closed());
    }
}
