//! Gzip detection by magic bytes and on-the-fly decompression into the stage.

use std::io::{Read, Write};

use flate2::write::MultiGzDecoder;

use super::pipeline::Stage;
use super::result::Compression;
use super::{ErrorKind, ProfileError};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&GZIP_MAGIC)
}

/// Decompresses as much of a (possibly truncated) gzip prefix as it can, up
/// to `limit` bytes, for sniffing.
pub fn gunzip_prefix(head: &[u8], limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(head).take(limit as u64);
    let mut buf = [0u8; 8192];
    // A truncated stream ends in an error; what was decoded before it is kept.
    while let Ok(n) = dec.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

pub enum Input {
    /// Fewer than two bytes seen: compression not known yet.
    Undecided(Vec<u8>, Box<Stage>),
    Plain(Box<Stage>),
    Gzip(Box<MultiGzDecoder<Stage>>),
    /// A previous call failed; the error is repeated.
    Failed(ProfileError),
}

fn gzip_error(e: &std::io::Error) -> ProfileError {
    ProfileError::new(ErrorKind::Gzip, None, format!("the gzip stream is corrupt or truncated ({e})"))
}

impl Input {
    pub fn new(stage: Stage) -> Self {
        Input::Undecided(Vec::new(), Box::new(stage))
    }

    fn decide(&mut self, eof: bool) -> Result<(), ProfileError> {
        let Input::Undecided(head, _) = self else {
            return Ok(());
        };
        if head.len() < GZIP_MAGIC.len() && !eof {
            return Ok(());
        }
        let gz = is_gzip(head);
        let Input::Undecided(head, stage) = std::mem::replace(self, Input::Failed(internal())) else {
            return Ok(());
        };
        *self = if gz { Input::Gzip(Box::new(MultiGzDecoder::new(*stage))) } else { Input::Plain(stage) };
        self.push(&head)
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), ProfileError> {
        let res = match self {
            Input::Undecided(head, _) => {
                head.extend_from_slice(chunk);
                return self.decide(false);
            }
            Input::Plain(stage) => stage.push(chunk),
            Input::Gzip(dec) => match dec.write_all(chunk) {
                Ok(()) => Ok(()),
                Err(e) => Err(dec.get_mut().take_error().unwrap_or_else(|| gzip_error(&e))),
            },
            Input::Failed(e) => Err(e.clone()),
        };
        if let Err(e) = &res {
            *self = Input::Failed(e.clone());
        }
        res
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ProfileError> {
        self.push(chunk)
    }

    pub fn finish(mut self) -> Result<(Stage, Compression), ProfileError> {
        self.decide(true)?;
        match self {
            Input::Plain(stage) => Ok((*stage, Compression::None)),
            Input::Gzip(mut dec) => {
                if let Err(e) = dec.try_finish() {
                    return Err(dec.get_mut().take_error().unwrap_or_else(|| gzip_error(&e)));
                }
                let stage = dec.finish().map_err(|e| gzip_error(&e))?;
                Ok((stage, Compression::Gzip))
            }
            Input::Failed(e) => Err(e),
            Input::Undecided(..) => Err(internal()),
        }
    }
}

fn internal() -> ProfileError {
    ProfileError::new(ErrorKind::Internal, None, "internal error: input state lost".to_string())
}

impl Write for Stage {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.push_decompressed(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                let msg = e.to_string();
                self.set_error(e);
                Err(std::io::Error::other(msg))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
