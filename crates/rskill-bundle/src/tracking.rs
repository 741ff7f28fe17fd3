//! Byte accounting under the tar layer: the SHA-256 and length of everything written or
//! read, so the manifest can cover tar headers and padding, which the tar crate does not
//! check by itself.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use sha2::{Digest, Sha256};

/// Counts and hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes written so far and their SHA-256.
    pub fn position(&self) -> (u64, String) {
        (self.len, hex::encode(self.hash.clone().finalize()))
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How many bytes the reader keeps unhashed behind its position, so that the hash at an
/// earlier position (a tar header just read) can still be taken.
const LAG: usize = 64 * 1024;

/// The shared state of a [`TrackingReader`].
#[derive(Default)]
pub struct Track {
    hash: Sha256,
    /// Bytes `[hashed, hashed + tail.len())` read but not yet hashed.
    tail: Vec<u8>,
    hashed: u64,
}

impl Track {
    /// Total bytes read.
    pub fn position(&self) -> u64 {
        self.hashed + self.tail.len() as u64
    }

    /// The SHA-256 of the first `pos` bytes, if `pos` is still within reach.
    pub fn hash_upto(&self, pos: u64) -> Option<String> {
        if pos < self.hashed || pos > self.position() {
            return None;
        }
        let mut h = self.hash.clone();
        h.update(&self.tail[..(pos - self.hashed) as usize]);
        Some(hex::encode(h.finalize()))
    }

    /// The bytes from `pos` to the current position, if still kept.
    pub fn bytes_from(&self, pos: u64) -> Option<&[u8]> {
        if pos < self.hashed || pos > self.position() {
            return None;
        }
        Some(&self.tail[(pos - self.hashed) as usize..])
    }

    fn push(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * LAG {
            let cut = self.tail.len() - LAG;
            self.hash.update(&self.tail[..cut]);
            self.tail.drain(..cut);
            self.hashed += cut as u64;
        }
    }
}

/// Reads through, recording into a shared [`Track`].
pub struct TrackingReader<R> {
    inner: R,
    track: Rc<RefCell<Track>>,
}

impl<R: Read> TrackingReader<R> {
    pub fn new(inner: R) -> (Self, Rc<RefCell<Track>>) {
        let track = Rc::new(RefCell::new(Track::default()));
        (
            TrackingReader {
                inner,
                track: track.clone(),
            },
            track,
        )
    }
}

impl<R: Read> Read for TrackingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.track.borrow_mut().push(&buf[..n]);
        Ok(n)
    }
}

/// Hashes and counts what is read through it.
pub struct DigestReader<R> {
    pub inner: R,
    pub hash: Sha256,
    pub len: u64,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        DigestReader {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }

    pub fn finish(self) -> (u64, String) {
        (self.len, hex::encode(self.hash.finalize()))
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}
