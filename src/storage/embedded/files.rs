//! How the embedded store keeps an object on disk: its bytes are the file at
//! the key's path under the bucket's folder, so the worker reads them with no
//! format in the way; its ETag and content type are one extended attribute
//! of that file, written before the file gets its name, so an object appears
//! whole, with its ETag, or not at all.
//!
//! A new object is written as a draft in the store's `.tmp` folder (same
//! file system), fsynced, given its attribute and then linked (create-only)
//! or renamed into place, and the folder is fsynced: after a crash an object
//! is either complete or absent. Where Linux allows, a draft is an unnamed
//! file (`O_TMPFILE`): a crash leaves nothing of it, and it saves creating
//! and removing a name in `.tmp` (and, on ext4 without a journal, that
//! name's fsync). Elsewhere drafts are named files, and what a crash left
//! of them is removed at the next start.
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
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use xxhash_rust::xxh3::Xxh3;

/// Where drafts are written, inside the store's root.
const TEMP_FOLDER: &str = ".tmp";

/// The attribute holding `<etag>` or `<etag> <content type>`. One attribute
/// with a short name, because ext4 (with its default 256-byte inodes) keeps
/// up to 64 bytes of value inside the inode: an ETag with a content type of
/// up to 31 bytes (`text/csv`, `application/vnd.ms-excel`) costs no block of
/// its own, which two attributes did, and that block was one more write in
/// every object's fsync. A longer value still works, in a block of its own.
const DESCRIPTION_NAME: &str = "user.loupe";
/// The longest attribute value read back; a content type that would not fit
/// is not kept (Loupe's own uploads allow 255 bytes).
const DESCRIPTION_BYTES: usize = 512;
/// The two attributes earlier builds of Loupe wrote, still read.
const OLD_ETAG_NAME: &str = "user.loupe.etag";
const OLD_CONTENT_TYPE_NAME: &str = "user.loupe.content-type";

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
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Ok(None);
    }
    let recorded = describe_recorded(&file, &meta)?;
    Ok(Some((file, recorded)))
}

fn describe_recorded(file: &File, meta: &std::fs::Metadata) -> io::Result<Option<Stored>> {
    let (etag, content_type) = match attribute(file, DESCRIPTION_NAME)? {
        Some(description) => match description.split_once(' ') {
            Some((etag, content_type)) => (etag.to_owned(), Some(content_type.to_owned())),
            None => (description, None),
        },
        None => {
            let Some(etag) = attribute(file, OLD_ETAG_NAME)? else { return Ok(None) };
            (etag, attribute(file, OLD_CONTENT_TYPE_NAME)?)
        }
    };
    Ok(Some(Stored { size: meta.len(), etag, content_type, modified: meta.modified()? }))
}

/// The attribute's value, and whether it holds the content type: one too
/// long to be read back is left out.
fn description(etag: &str, content_type: Option<&str>) -> (String, bool) {
    match content_type {
        Some(content_type) if etag.len() + 1 + content_type.len() <= DESCRIPTION_BYTES => {
            (format!("{etag} {content_type}"), true)
        }
        _ => (etag.to_owned(), false),
    }
}

/// Describes an open object, computing (and recording, where the file
/// system allows) its ETag when it has none: then a pass over the file, so
/// call it off the async runtime. Leaves the file at its start.
pub fn describe(file: &mut File) -> io::Result<Stored> {
    let meta = file.metadata()?;
    if let Some(stored) = describe_recorded(file, &meta)? {
        return Ok(stored);
    }
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
    let _ = set_attribute(file, DESCRIPTION_NAME, &etag);
    Ok(Stored { size: meta.len(), etag, content_type: None, modified: meta.modified()? })
}

fn etag_of(hasher: &Xxh3) -> String {
    format!("{:032x}", hasher.digest128())
}

/// Where new objects are drafted: the store's `.tmp` folder, as unnamed
/// files where the file system allows. Cheap to clone: each PUT takes one.
#[derive(Clone, Debug)]
pub struct Drafts {
    folder: Arc<Path>,
    unnamed: bool,
}

impl Drafts {
    /// Prepares the folder, removes the named drafts a crash left behind
    /// (the data directory belongs to one process, so no other writer can be
    /// using them) and finds out whether unnamed drafts work there.
    pub fn open(root: &Path) -> io::Result<Drafts> {
        let folder = root.join(TEMP_FOLDER);
        std::fs::create_dir_all(&folder)?;
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::remove_file(entry.path())?;
            }
        }
        let unnamed = unnamed_drafts_work(&folder);
        Ok(Drafts { folder: folder.into(), unnamed })
    }

    /// Drafts named files only, as where unnamed ones are not supported.
    #[cfg(test)]
    fn named_only(mut self) -> Drafts {
        self.unnamed = false;
        self
    }

    fn new_name(&self) -> PathBuf {
        self.folder.join(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Whether an unnamed file can be made in `folder` and then given a name:
/// Linux's `O_TMPFILE` needs a file system that supports it, and naming the
/// file needs `/proc`. Leaves nothing behind.
fn unnamed_drafts_work(folder: &Path) -> bool {
    let probe = folder.join(format!("probe-{}", uuid::Uuid::new_v4().simple()));
    let linked = create_unnamed(folder).and_then(|file| link_unnamed(&file, &probe)).is_ok();
    let _ = std::fs::remove_file(&probe);
    linked
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

/// An object being written; nothing of it stays unless committed.
pub struct NewObject {
    file: File,
    /// The draft's name; None for an unnamed draft.
    temp: Option<PathBuf>,
    drafts: Drafts,
    hasher: Xxh3,
    size: u64,
    committed: bool,
}

impl NewObject {
    pub fn create(drafts: &Drafts) -> io::Result<NewObject> {
        let (file, temp) = if drafts.unnamed {
            (create_unnamed(&drafts.folder)?, None)
        } else {
            let temp = drafts.new_name();
            (File::options().write(true).create_new(true).open(&temp)?, Some(temp))
        };
        Ok(NewObject { file, temp, drafts: drafts.clone(), hasher: Xxh3::new(), size: 0, committed: false })
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
        let (description, keeps_content_type) = description(&etag, content_type);
        // Before the name: whoever sees the object sees its ETag.
        let recorded = set_attribute(&self.file, DESCRIPTION_NAME, &description).is_ok();
        self.file.sync_all()?;
        let folder = path.parent().ok_or_else(|| io::Error::other("an object path has a folder"))?;
        std::fs::create_dir_all(folder)?;
        match &self.temp {
            None if replace => {
                // A rename needs a name to move: the draft gets one first.
                let temp = self.drafts.new_name();
                link_unnamed(&self.file, &temp)?;
                if let Err(err) = std::fs::rename(&temp, path) {
                    let _ = std::fs::remove_file(&temp);
                    return Err(err.into());
                }
            }
            None => link_unnamed(&self.file, path).map_err(|err| match err.kind() {
                io::ErrorKind::AlreadyExists => CommitError::Exists,
                _ => CommitError::Io(err),
            })?,
            Some(temp) => {
                if replace {
                    std::fs::rename(temp, path)?;
                } else if link_new(temp, path)? {
                    std::fs::remove_file(temp)?;
                }
            }
        }
        self.committed = true;
        sync_folder(folder)?;
        let meta = self.file.metadata()?;
        Ok(Stored {
            size: self.size,
            etag,
            content_type: content_type.filter(|_| recorded && keeps_content_type).map(str::to_owned),
            modified: meta.modified()?,
        })
    }
}

impl Drop for NewObject {
    fn drop(&mut self) {
        if !self.committed
            && let Some(temp) = &self.temp
        {
            let _ = std::fs::remove_file(temp);
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

/// A file in `folder` with no name, which vanishes if the process dies first.
#[cfg(target_os = "linux")]
fn create_unnamed(folder: &Path) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(folder, flags, Mode::from_raw_mode(0o666))?))
}

/// Gives an unnamed file the name `path`, failing if the name is taken.
#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // `AT_EMPTY_PATH` would need CAP_DAC_READ_SEARCH; the /proc link does not.
    let own = format!("/proc/self/fd/{}", file.as_raw_fd());
    let follow = rustix::fs::AtFlags::SYMLINK_FOLLOW;
    Ok(rustix::fs::linkat(rustix::fs::CWD, own.as_str(), rustix::fs::CWD, path, follow)?)
}

#[cfg(not(target_os = "linux"))]
fn create_unnamed(_folder: &Path) -> io::Result<File> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(not(target_os = "linux"))]
fn link_unnamed(_file: &File, _path: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn attribute(file: &File, name: &str) -> io::Result<Option<String>> {
    let mut value = [0; DESCRIPTION_BYTES];
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

#[cfg(test)]
mod tests {
    use super::*;

    fn put(
        drafts: &Drafts,
        path: &Path,
        body: &[u8],
        content_type: Option<&str>,
        replace: bool,
    ) -> Result<Stored, CommitError> {
        let mut object = NewObject::create(drafts)?;
        object.write(&[Bytes::copy_from_slice(body)])?;
        object.commit(path, content_type, replace)
    }

    fn drafts_left(root: &Path) -> usize {
        std::fs::read_dir(root.join(TEMP_FOLDER)).unwrap().count()
    }

    /// Both kinds of draft: unnamed where this machine's file system allows
    /// (ext4 and tmpfs do), and the named ones other systems get.
    #[test]
    fn objects_appear_whole_and_drafts_leave_nothing() {
        let root = tempfile::tempdir().unwrap();
        let unnamed = Drafts::open(root.path()).unwrap();
        #[cfg(target_os = "linux")]
        assert!(unnamed.unnamed, "O_TMPFILE works on the file systems tests run on");
        for (kind, drafts) in [("unnamed", unnamed.clone()), ("named", unnamed.named_only())] {
            let path = root.path().join("bucket").join(kind).join("a.csv");
            let stored = put(&drafts, &path, b"a\n1\n", Some("text/csv"), false).unwrap();
            assert_eq!(stored.etag, format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"a\n1\n")));
            assert_eq!(std::fs::read(&path).unwrap(), b"a\n1\n", "{kind}");
            let (_, recorded) = open(&path).unwrap().unwrap();
            let recorded = recorded.expect("described");
            assert_eq!(
                (recorded.etag.as_str(), recorded.content_type.as_deref()),
                (stored.etag.as_str(), Some("text/csv"))
            );

            let again = put(&drafts, &path, b"other", None, false);
            assert!(matches!(again, Err(CommitError::Exists)), "{kind}: create-only keeps the first");
            assert_eq!(std::fs::read(&path).unwrap(), b"a\n1\n");

            let replaced = put(&drafts, &path, b"b\n2\n", None, true).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"b\n2\n", "{kind}");
            let (_, recorded) = open(&path).unwrap().unwrap();
            assert_eq!(recorded.unwrap().etag, replaced.etag);

            let mut abandoned = NewObject::create(&drafts).unwrap();
            abandoned.write(&[Bytes::from_static(b"half")]).unwrap();
            drop(abandoned);
            assert_eq!(drafts_left(root.path()), 0, "{kind}");
        }
    }

    #[test]
    fn named_drafts_left_by_a_crash_are_removed_at_start() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(TEMP_FOLDER)).unwrap();
        std::fs::write(root.path().join(TEMP_FOLDER).join("0123456789abcdef"), b"half of an upl").unwrap();
        Drafts::open(root.path()).unwrap();
        assert_eq!(drafts_left(root.path()), 0);
    }

    /// An ETag and a short content type fit inside an ext4 inode; a content
    /// type too long to be read back is not kept.
    #[test]
    fn descriptions_stay_short_and_readable() {
        let etag = "0123456789abcdef0123456789abcdef";
        let (value, kept) = description(etag, Some("application/vnd.ms-excel"));
        assert!(kept && value.len() <= 64, "{value}");
        assert_eq!(description(etag, None), (etag.to_owned(), false));
        let long = "x".repeat(DESCRIPTION_BYTES);
        assert_eq!(description(etag, Some(&long)), (etag.to_owned(), false));
    }

    /// Objects written by earlier builds carry two attributes.
    #[cfg(target_os = "linux")]
    #[test]
    fn objects_described_the_old_way_keep_their_etag_and_type() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("old.csv");
        std::fs::write(&path, b"a\n").unwrap();
        let file = File::open(&path).unwrap();
        set_attribute(&file, OLD_ETAG_NAME, "00000000000000000000000000000abc").unwrap();
        set_attribute(&file, OLD_CONTENT_TYPE_NAME, "text/plain").unwrap();
        let (_, recorded) = open(&path).unwrap().unwrap();
        let recorded = recorded.expect("described");
        assert_eq!(recorded.etag, "00000000000000000000000000000abc");
        assert_eq!(recorded.content_type.as_deref(), Some("text/plain"));
        assert_eq!(recorded.size, 2);
    }
}
