//! [`Arena`]: the words of a shard's windows, in chunks of 8 KiB that the shard keeps and
//! reuses, so a window costs its words and nothing else (no allocation of its own, hence no
//! allocator header or rounding), and the churn of a full shard (evictions, then new windows)
//! never reaches the allocator. A window is a [`Slot`]: an offset and a length in words; a
//! freed slot goes on the free list of its length and the next window of that length takes it.
//!
//! A window whose length divides 8 words sits within one cache line (a window of threshold 10
//! is 8 words: one whole line). Chunks are allocated one at a time as the shard fills, and only
//! freed when the arena is rebuilt ([`Arena::compact`], by the store when freed slots of
//! lengths no longer asked for outweigh the live windows) or dropped; a window
//! longer than a chunk (a group of about a thousand members) has an allocation of its own. It
//! knows nothing of what the words mean and takes no lock: the shard's lock guards it (reads
//! under the read lock, allocation under the write lock).
//!
//! Finding a window's words costs a shift, a mask and one load of its chunk's pointer (a thin
//! pointer: a shard's chunk list is 8 bytes per 8 KiB).

use std::sync::atomic::{AtomicU64, Ordering};

/// Words a chunk holds for windows: 128 cache lines (in an allocation of 7 more words, so
/// that the first whole line can be found in it whatever the allocator's alignment).
pub(super) const CHUNK_WORDS: usize = 1 << CHUNK_SHIFT;
const CHUNK_SHIFT: u32 = 10;
/// Words per cache line.
const LINE_WORDS: usize = 8;
/// Words allocated per chunk.
const CHUNK_ALLOC: usize = CHUNK_WORDS + LINE_WORDS - 1;
/// The offset bit of a slot allocated on its own (the other bits: its index among them).
const OWN: u32 = 1 << 31;

/// Where a window's words are in its shard's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Slot {
    /// Offset in words: chunk `offset >> CHUNK_SHIFT`, at `offset % CHUNK_WORDS` in it; or,
    /// with the bit `OWN`, the index of a window's own allocation.
    offset: u32,
    /// Length in words.
    len: u32,
}

type Chunk = Box<[AtomicU64; CHUNK_ALLOC]>;

/// A zeroed chunk.
fn chunk() -> Chunk {
    let words: Box<[AtomicU64]> = (0..CHUNK_ALLOC).map(|_| AtomicU64::new(0)).collect();
    match words.try_into() {
        Ok(chunk) => chunk,
        Err(_) => unreachable!("CHUNK_ALLOC words"),
    }
}

/// Where the first whole cache line of `chunk` starts.
fn start(chunk: &Chunk) -> usize {
    (LINE_WORDS - (chunk.as_ptr() as usize / 8) % LINE_WORDS) % LINE_WORDS
}

/// The words of a shard's windows; see the module docs.
#[derive(Default)]
pub(super) struct Arena {
    chunks: Vec<Chunk>,
    /// Windows longer than a chunk, each in an allocation of its own.
    own: Vec<Box<[AtomicU64]>>,
    /// Words in use in the last chunk.
    used: usize,
    /// Freed slots by length: (length, offsets).
    free: Vec<(u32, Vec<u32>)>,
    /// Words in freed slots.
    free_words: usize,
    /// Words in live slots.
    live_words: usize,
}

impl Arena {
    /// The words of `slot`.
    #[inline(always)]
    pub(super) fn words(&self, slot: Slot) -> &[AtomicU64] {
        let (offset, len) = (slot.offset as usize, slot.len as usize);
        if slot.offset & OWN != 0 {
            return &self.own[offset & !(OWN as usize)][..len];
        }
        let chunk = &self.chunks[offset >> CHUNK_SHIFT];
        let from = start(chunk) + offset % CHUNK_WORDS;
        &chunk[from..from + len]
    }

    /// A slot of `len` words (at least 1), all zero: a freed slot of that length if there is
    /// one, else the next words of the last chunk (from the next cache line when `len` divides
    /// 8, so that the window stays within one line), else a new chunk.
    pub(super) fn alloc(&mut self, len: usize) -> Slot {
        let len = len.max(1);
        self.live_words += len;
        if let Some(offsets) = self
            .free
            .iter_mut()
            .find(|(l, _)| *l as usize == len)
            .map(|(_, offsets)| offsets)
        {
            if let Some(offset) = offsets.pop() {
                self.free_words -= len;
                let slot = Slot {
                    offset,
                    len: len as u32,
                };
                for word in self.words(slot) {
                    word.store(0, Ordering::Relaxed);
                }
                return slot;
            }
        }
        let offset = if len > CHUNK_WORDS {
            self.own.push((0..len).map(|_| AtomicU64::new(0)).collect());
            OWN as usize | (self.own.len() - 1)
        } else {
            let mut at = if LINE_WORDS % len == 0 {
                self.used.next_multiple_of(len)
            } else {
                self.used
            };
            if self.chunks.is_empty() || at + len > CHUNK_WORDS {
                self.chunks.push(chunk());
                at = 0;
            }
            self.used = at + len;
            ((self.chunks.len() - 1) << CHUNK_SHIFT) + at
        };
        Slot {
            offset: u32::try_from(offset).expect("fewer than 2^31 words or windows"),
            len: len as u32,
        }
    }

    /// Gives `slot` back, for the next window of its length.
    pub(super) fn free(&mut self, slot: Slot) {
        self.live_words -= slot.len as usize;
        self.free_words += slot.len as usize;
        match self.free.iter_mut().find(|(l, _)| *l == slot.len) {
            Some((_, offsets)) => offsets.push(slot.offset),
            None => self.free.push((slot.len, vec![slot.offset])),
        }
    }

    /// Whether rebuilding would be worth it: freed slots hold more words than the live windows
    /// (and than a chunk), so some lengths are no longer asked for.
    pub(super) fn wasteful(&self) -> bool {
        self.free_words > self.live_words.max(CHUNK_WORDS)
    }

    /// Whether rebuilding before allocating `len` words would be worth it: [`wasteful`], and
    /// no freed slot of that length to take (a shard whose windows all expired at once reuses
    /// their words instead).
    ///
    /// [`wasteful`]: Self::wasteful
    pub(super) fn wasteful_for(&self, len: usize) -> bool {
        self.wasteful()
            && !self
                .free
                .iter()
                .any(|(l, offsets)| *l as usize == len && !offsets.is_empty())
    }

    /// A new arena holding copies of the windows of `slots` (each updated to its new place),
    /// packed, without free slots: O(live words). The caller swaps it in.
    pub(super) fn compact<'a>(&self, slots: impl Iterator<Item = &'a mut Slot>) -> Arena {
        let mut packed = Arena::default();
        for slot in slots {
            let new = packed.alloc(slot.len as usize);
            for (to, from) in packed.words(new).iter().zip(self.words(*slot)) {
                to.store(from.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            *slot = new;
        }
        packed
    }

    /// Bytes allocated for words, live or not.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        8 * (self.chunks.len() * CHUNK_ALLOC + self.own.iter().map(|w| w.len()).sum::<usize>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_of_a_line_or_less_stay_in_their_line_and_freed_slots_are_reused() {
        let mut arena = Arena::default();
        let slots: Vec<Slot> = [8, 4, 4, 5, 8, 2, 36, 8]
            .iter()
            .map(|&len| arena.alloc(len))
            .collect();
        for &s in &slots {
            let words = arena.words(s);
            assert_eq!(words.len(), s.len as usize);
            if LINE_WORDS % s.len as usize == 0 {
                let within = words.as_ptr() as usize % 64;
                assert!(within + words.len() * 8 <= 64, "{s:?}");
            }
            words[0].store(7, Ordering::Relaxed);
        }
        assert_eq!(arena.bytes(), CHUNK_ALLOC * 8);
        arena.free(slots[0]);
        assert!(!arena.wasteful());
        let again = arena.alloc(8);
        assert_eq!(again, slots[0]);
        assert_eq!(arena.words(again)[0].load(Ordering::Relaxed), 0); // zeroed
        assert_eq!(arena.bytes(), CHUNK_ALLOC * 8); // no new chunk
    }

    #[test]
    fn a_window_longer_than_a_chunk_has_one_of_its_own() {
        let mut arena = Arena::default();
        let small = arena.alloc(8);
        let big = arena.alloc(3 * CHUNK_WORDS + 1);
        let next = arena.alloc(8);
        assert_eq!(arena.words(big).len(), 3 * CHUNK_WORDS + 1);
        assert_eq!(next.offset, small.offset + 8); // the open chunk goes on being filled
        arena.words(big)[3 * CHUNK_WORDS].store(1, Ordering::Relaxed);
        assert_eq!(arena.words(next)[0].load(Ordering::Relaxed), 0);
        assert_eq!(arena.bytes(), 8 * (CHUNK_ALLOC + 3 * CHUNK_WORDS + 1));
        let after = arena.alloc(3 * CHUNK_WORDS + 1);
        assert_eq!(arena.words(after).len(), 3 * CHUNK_WORDS + 1);
        assert_ne!(after, big);
        arena.free(big);
        assert_eq!(arena.alloc(3 * CHUNK_WORDS + 1), big);
    }

    #[test]
    fn compacting_keeps_the_live_windows_and_drops_the_freed_slots() {
        let mut arena = Arena::default();
        let mut live = Vec::new();
        for i in 0..1_000u64 {
            let slot = arena.alloc(5);
            arena.words(slot)[4].store(i, Ordering::Relaxed);
            live.push(slot);
        }
        for (i, &slot) in live.iter().enumerate() {
            if i % 10 != 0 {
                arena.free(slot);
            }
        }
        live = live.into_iter().step_by(10).collect();
        assert!(arena.wasteful());
        assert!(!arena.wasteful_for(5)); // its freed slots will do
        assert!(arena.wasteful_for(8));
        let packed = arena.compact(live.iter_mut());
        for (i, &slot) in live.iter().enumerate() {
            assert_eq!(packed.words(slot)[4].load(Ordering::Relaxed), i as u64 * 10);
        }
        assert!(!packed.wasteful());
        assert_eq!(packed.bytes(), CHUNK_ALLOC * 8);
    }
}
