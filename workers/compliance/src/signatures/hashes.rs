//! Whole-file hash signatures, stored compactly: a real database holds millions (ClamAV's
//! `main.hdb` alone ~4M MD5s), so each is a fixed-size row in a sorted vector (28 or 44 bytes)
//! with its name in one shared text arena, not a map entry with strings of its own.

use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashKind {
    Md5,
    Sha256,
}

/// A size field of `*`: the signature matches a file of any size.
const ANY_SIZE: u64 = u64::MAX;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashStore {
    md5: Table<16>,
    sha256: Table<32>,
    /// Every name, end to end; `ends[id]` is where name `id` ends.
    names: String,
    ends: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Table<const N: usize> {
    rows: Vec<([u8; N], u64, u32)>,
    sorted: bool,
    /// The sizes some signature names, and whether one matches any size.
    sizes: HashSet<u64>,
    any_size: bool,
}

impl<const N: usize> Table<N> {
    fn insert(&mut self, digest: [u8; N], size: Option<u64>, name: u32) {
        match size {
            Some(size) => {
                self.sizes.insert(size);
            }
            None => self.any_size = true,
        }
        self.rows.push((digest, size.unwrap_or(ANY_SIZE), name));
        self.sorted = false;
    }

    fn seal(&mut self) {
        if !self.sorted {
            self.rows.sort_unstable();
            self.rows.shrink_to_fit();
            self.sorted = true;
        }
    }

    fn wants(&self, size: Option<u64>) -> bool {
        !self.rows.is_empty()
            && (self.any_size || size.is_none_or(|size| self.sizes.contains(&size)))
    }

    fn lookup(&self, digest: &[u8], size: u64) -> Vec<u32> {
        let start = self.rows.partition_point(|row| row.0.as_slice() < digest);
        self.rows[start..]
            .iter()
            .take_while(|row| row.0.as_slice() == digest)
            .filter(|row| row.1 == ANY_SIZE || row.1 == size)
            .map(|row| row.2)
            .collect()
    }
}

impl HashStore {
    /// Adds a signature; a digest of any other length is refused (false).
    pub fn insert(&mut self, digest: &[u8], size: Option<u64>, name: &str) -> bool {
        let id = self.ends.len() as u32;
        if let Ok(md5) = <[u8; 16]>::try_from(digest) {
            self.md5.insert(md5, size, id);
        } else if let Ok(sha256) = <[u8; 32]>::try_from(digest) {
            self.sha256.insert(sha256, size, id);
        } else {
            return false;
        }
        self.names.push_str(name);
        self.ends.push(self.names.len() as u32);
        true
    }

    /// Sorts the tables for lookup; call once all signatures are in.
    pub fn seal(&mut self) {
        self.md5.seal();
        self.sha256.seal();
        self.names.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.md5.rows.len() + self.sha256.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a file of `size` bytes (None: not known) needs its `kind` digest computed: the
    /// whole-file MD5 pass is the slowest part of a scan, and no signature may need it.
    pub fn wants(&self, kind: HashKind, size: Option<u64>) -> bool {
        match kind {
            HashKind::Md5 => self.md5.wants(size),
            HashKind::Sha256 => self.sha256.wants(size),
        }
    }

    /// The names of the signatures matching a file of `size` bytes with this digest.
    pub fn lookup(&self, kind: HashKind, digest: &[u8], size: u64) -> Vec<&str> {
        let ids: Vec<u32> = match kind {
            HashKind::Md5 => self.md5.lookup(digest, size),
            HashKind::Sha256 => self.sha256.lookup(digest, size),
        };
        ids.into_iter().map(|id| self.name(id)).collect()
    }

    fn name(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.names[start..self.ends[id] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_respect_size_and_kind() {
        let mut store = HashStore::default();
        assert!(store.insert(&[1; 16], Some(10), "Md5.Ten"));
        assert!(store.insert(&[1; 16], None, "Md5.Any"));
        assert!(store.insert(&[2; 32], Some(5), "Sha.Five"));
        assert!(!store.insert(&[3; 20], None, "Sha1"));
        store.seal();
        assert_eq!(
            store.lookup(HashKind::Md5, &[1; 16], 10),
            ["Md5.Ten", "Md5.Any"]
        );
        assert_eq!(store.lookup(HashKind::Md5, &[1; 16], 11), ["Md5.Any"]);
        assert!(store.lookup(HashKind::Sha256, &[2; 32], 6).is_empty());
        assert!(store.wants(HashKind::Md5, Some(1)), "an any-size MD5");
        assert!(store.wants(HashKind::Sha256, Some(5)));
        assert!(!store.wants(HashKind::Sha256, Some(6)));
        assert!(store.wants(HashKind::Sha256, None));
    }
}
