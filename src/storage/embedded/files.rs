//! How the embedded store keeps an object on disk: its bytes are the file at
//! the key's path under the bucket's folder, so the worker reads them with no
//! format in the way; its ETag and content type are extended attributes of
//! that file, written before the file gets its name, so an object appears
//! whole, with its ETag, or not at all.
//!
//! A new object is written under a temporary name in the store's `.tmp`
//! folder (same file system), fsynced, given its attributes and then linked
//! (create-only) or renamed into place, and the folder is fsynced: after a
//! crash an object is either complete or absent, and what is left in `.tmp`
//! is removed at the next start.
//!
//! The ETag is an XXH3-128 of the bytes, computed while they are written:
//! MD5 (what AWS uses) would cost more than the write itself, and S3 clients
//! treat an ETag as opaque. A file without the attribute (copied in by a
//! tool that drops extended attributes, or on a file system without them)
//! gets its ETag computed by reading it once, kept in the attribute when the
//! file system allows.

use std::fs::File;
use std::io::{self, IoSlice, Read, Seek, Write};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use xxhash_rust::xxh3::Xxh3;

/// Where temporary files are written, inside the store's root.
const TEMP_FOLDER: &str = ".tmp";

const ETAG_NAME: &str = "user.loupe.etag";
const CONTENT_TYPE_NAME: &str = "user.loupe.content-type";

/// What the store knows of a stored object.
#[derive(Clone, Debug)]
pub struct Stored {
    pub size: u64,
    /// Unquoted; S3 sends it as `"<etag>"`.
    pub etag: String,
    pub content_type: Option<String>,
    pub modified: SystemTime,
}

impl Stored {
    /// The ETag as an HTTP header and the S3 API carry it.
    pub fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }
}

/// The file of `key` under `bucket_folder`, or None for a key that is not a
/// plain relative path (a path must never leave the folder).
pub fn object_path(bucket_folder: &Path, key: &str) -> Option<PathBuf> {
    let plain = !key.is_empty()
        && !key.ends_with('/')
        && Path::new(key).components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| bucket_folder.join(key))
}

/// Opens the object at `path`; None when there is none (a folder holding
/// keys with slashes is not one). With the description of that very file,
/// so a replacement in between cannot mix two versions, unless its ETag was
/// never recorded (then [`describe`] it). Takes microseconds.
pub fn open(path: &Path) -> io::Result<Option<(File, Option<Stored>)>> {
    let file = match File::open(path) {
        Ok(file) => file,
        // A key whose folder is an object: there is no such key either.
        Err(err) if matches!(err.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(None),
        Err(err) => return Err(err),
    };
    if file.metadata()?.is_dir() {
        return Ok(None);
    }
    let recorded = describe_recorded(&file)?;
    Ok(Some((file, recorded)))
}

fn describe_recorded(file: &File) -> io::Result<Option<Stored>> {
    let meta = file.metadata()?;
    let Some(etag) = attribute(file, ETAG_NAME)? else { return Ok(None) };
    Ok(Some(Stored {
        size: meta.len(),
        etag,
        content_type: attribute(file, CONTENT_TYPE_NAME)?,
        modified: meta.modified()?,
    }))
}

/// Describes an open object, computing (and recording, where the file
/// system allows) its ETag when it has none: then a pass over the file, so
/// call it off the async runtime. Leaves the file at its start.
pub fn describe(file: &mut File) -> io::Result<Stored> {
    if let Some(stored) = describe_recorded(file)? {
        return Ok(stored);
    }
    let meta = file.metadata()?;
    let mut hasher = Xxh3::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        match file.read(&mut buffer)? {
            0 => break,
            n => hasher.update(&buffer[..n]),
        }
    }
    file.rewind()?;
    let etag = etag_of(&hasher);
    // A read-only file system, or one without extended attributes: the ETag
    // is computed again next time.
    let _ = set_attribute(file, ETAG_NAME, &etag);
    Ok(Stored { size: meta.len(), etag, content_type: None, modified: meta.modified()? })
}

fn etag_of(hasher: &Xxh3) -> String {
    format!("{:032x}", hasher.digest128())
}

/// Removes temporary files a crash left behind. The data directory belongs
/// to one process, so no other writer can be using them.
pub fn clean_temp(root: &Path) -> io::Result<()> {
    let temp = root.join(TEMP_FOLDER);
    std::fs::create_dir_all(&temp)?;
    for entry in std::fs::read_dir(&temp)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Why a new object did not take its place.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Create-only, and an object already has the name.
    #[error("the object already exists")]
    Exists,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// An object being written; removed unless committed.
pub struct NewObject {
    file: File,
    temp: PathBuf,
    hasher: Xxh3,
    size: u64,
    committed: bool,
}

impl NewObject {
    pub fn create(root: &Path) -> io::Result<NewObject> {
        let temp = root.join(TEMP_FOLDER).join(uuid::Uuid::new_v4().simple().to_string());
        let file = File::options().write(true).create_new(true).open(&temp)?;
        Ok(NewObject { file, temp, hasher: Xxh3::new(), size: 0, committed: false })
    }

    /// Appends `chunks` with as few system calls as their number allows.
    pub fn write(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        for chunk in chunks {
            self.hasher.update(chunk);
            self.size += chunk.len() as u64;
        }
        // Up to IOV_MAX (1024 on Linux) slices per call.
        for group in chunks.chunks(1024) {
            let mut slices: Vec<IoSlice> = group.iter().map(|c| IoSlice::new(c)).collect();
            let mut slices = &mut slices[..];
            while !slices.is_empty() {
                match self.file.write_vectored(slices) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => IoSlice::advance_slices(&mut slices, n),
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(())
    }

    /// Makes the object durable and gives it its name: create-only when
    /// `replace` is false (an existing object makes it [`CommitError::Exists`]).
    pub fn commit(mut self, path: &Path, content_type: Option<&str>, replace: bool) -> Result<Stored, CommitError> {
        let etag = etag_of(&self.hasher);
        // Before the name: whoever sees the object sees its ETag.
        let recorded = set_attribute(&self.file, ETAG_NAME, &etag).is_ok();
        if recorded && let Some(content_type) = content_type {
            set_attribute(&self.file, CONTENT_TYPE_NAME, content_type)?;
        }
        self.file.sync_all()?;
        let folder = path.parent().ok_or_else(|| io::Error::other("an object path has a folder"))?;
        std::fs::create_dir_all(folder)?;
        if replace {
            std::fs::rename(&self.temp, path)?;
        } else if link_new(&self.temp, path)? {
            std::fs::remove_file(&self.temp)?;
        }
        self.committed = true;
        sync_folder(folder)?;
        let meta = self.file.metadata()?;
        Ok(Stored {
            size: self.size,
            etag,
            content_type: content_type.filter(|_| recorded).map(str::to_owned),
            modified: meta.modified()?,
        })
    }
}

impl Drop for NewObject {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Gives `temp` the name `path` only if nothing has it: a hard link is
/// atomic, so two writers (even in two processes) cannot both succeed. On a
/// file system without hard links, a check then a rename; the store lets one
/// PUT per key run at a time, so nothing comes between the two in-process.
/// Says whether `temp` is still there, to be removed.
fn link_new(temp: &Path, path: &Path) -> Result<bool, CommitError> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Err(CommitError::Exists),
        Err(err) if matches!(err.kind(), io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied) => {
            if path.exists() {
                return Err(CommitError::Exists);
            }
            std::fs::rename(temp, path)?;
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}

/// Makes a new name in `folder` durable.
fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(folder)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn attribute(file: &File, name: &str) -> io::Result<Option<String>> {
    // An ETag is 32 bytes; a longer content type than this is not kept.
    let mut value = [0; 512];
    match rustix::fs::fgetxattr(file, name, &mut value) {
        Ok(n) => Ok(std::str::from_utf8(&value[..n]).ok().map(str::to_owned)),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn set_attribute(file: &File, name: &str, value: &str) -> io::Result<()> {
    Ok(rustix::fs::fsetxattr(file, name, value.as_bytes(), rustix::fs::XattrFlags::empty())?)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn attribute(_file: &File, _name: &str) -> io::Result<Option<String>> {
    Ok(None)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn set_attribute(_file: &File, _name: &str, _value: &str) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}
