//! Guest pointers and lengths, checked. A plugin passes them as `i32`, but they are unsigned
//! 32-bit offsets into its memory: reinterpreted (never sign-extended), added without overflow,
//! and kept inside the memory, or refused. No host function indexes guest memory otherwise.

use std::ops::Range;

/// Most iovecs one `fd_read` or `fd_write` may pass (POSIX's IOV_MAX).
pub const MAX_IOVECS: u32 = 1024;

/// `[ptr, ptr + len)` if it lies inside a memory of `size` bytes.
fn range(size: usize, ptr: i32, len: u32) -> Option<Range<usize>> {
    let start = usize::try_from(ptr.cast_unsigned()).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= size).then_some(start..end)
}

pub fn slice(data: &[u8], ptr: i32, len: u32) -> Option<&[u8]> {
    data.get(range(data.len(), ptr, len)?)
}

pub fn slice_mut(data: &mut [u8], ptr: i32, len: u32) -> Option<&mut [u8]> {
    let range = range(data.len(), ptr, len)?;
    data.get_mut(range)
}

/// A length the guest passed as `i32`; a negative one is refused.
pub fn length(len: i32) -> Option<u32> {
    u32::try_from(len).ok()
}

pub fn read_u32(data: &[u8], ptr: i32) -> Option<u32> {
    let bytes: [u8; 4] = slice(data, ptr, 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

pub fn write_u32(data: &mut [u8], ptr: i32, value: u32) -> Option<()> {
    slice_mut(data, ptr, 4)?.copy_from_slice(&value.to_le_bytes());
    Some(())
}

/// The `index`th iovec of the array at `iovs`: its buffer pointer and length.
pub fn iovec(data: &[u8], iovs: i32, index: u32) -> Option<(i32, u32)> {
    let at = iovs.cast_unsigned().checked_add(index.checked_mul(8)?)?;
    let buf = read_u32(data, at.cast_signed())?;
    let len = read_u32(data, at.checked_add(4)?.cast_signed())?;
    Some((buf.cast_signed(), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_pointers_and_lengths_are_refused() {
        let data = vec![7u8; 64];
        assert_eq!(slice(&data, 60, 4), Some(&[7u8; 4][..]));
        assert_eq!(slice(&data, 61, 4), None, "past the end");
        assert_eq!(slice(&data, -1, 1), None, "a negative pointer is a huge offset, not a small one");
        assert_eq!(slice(&data, i32::MIN, 0), None);
        assert_eq!(slice(&data, 8, u32::MAX), None, "overflowing length");
        assert_eq!(slice(&data, i32::MAX, u32::MAX), None);
        assert_eq!(slice(&data, 64, 0), Some(&[][..]), "an empty range at the end");
        assert_eq!(length(-5), None);
        assert_eq!(iovec(&data, 56, 1), None, "the second iovec is outside");
        assert_eq!(iovec(&data, 0, u32::MAX), None, "index overflow");
        assert_eq!(iovec(&data, -8, 1), None);
        let mut data = data;
        assert_eq!(write_u32(&mut data, 62, 1), None);
        assert_eq!(write_u32(&mut data, 60, 1), Some(()));
        assert_eq!(read_u32(&data, 60), Some(1));
    }
}
