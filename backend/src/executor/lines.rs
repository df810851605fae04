//! Reading a process's or a container's output line by line with bounded memory: a line longer than the
//! limit keeps its first bytes and the rest is skipped while it is read, so a program that writes without
//! ever ending a line cannot make k8x grow until it runs out of memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// What one read found.
#[derive(Debug, PartialEq, Eq)]
pub struct Read {
    /// The line ended with a newline (otherwise the stream ended first).
    pub ended: bool,
    /// The line was longer than the limit and was cut.
    pub cut: bool,
}

/// Reads the next line into `buf` (cleared first, without its `\n` or `\r\n`), keeping at most `max` bytes of
/// it; `None` at the end of the stream.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Read>> {
    buf.clear();
    let (mut any, mut cut) = (false, false);
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            trim(buf);
            return Ok(any.then_some(Read { ended: false, cut }));
        }
        any = true;
        let (take, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&available[..take.min(room)]);
        cut |= take > room && !(ended && take == room + 1);
        reader.consume(take);
        if ended {
            trim(buf);
            return Ok(Some(Read { ended: true, cut }));
        }
    }
}

fn trim(buf: &mut Vec<u8>) {
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize) -> Vec<(String, Read)> {
        // A tiny buffer, so that lines span many reads.
        let mut reader = tokio::io::BufReader::with_capacity(3, input);
        let (mut buf, mut lines) = (Vec::new(), Vec::new());
        while let Some(read) = read_line(&mut reader, &mut buf, max).await.unwrap() {
            lines.push((String::from_utf8(buf.clone()).unwrap(), read));
        }
        lines
    }

    #[tokio::test]
    async fn lines_are_split_and_long_ones_cut_while_read() {
        let lines = all(b"one\r\ntwo\nabcdefghij\nlast", 4).await;
        let texts: Vec<_> = lines.iter().map(|(t, r)| (t.as_str(), r.ended, r.cut)).collect();
        assert_eq!(texts, [("one", true, false), ("two", true, false), ("abcd", true, true), ("last", false, false)]);
        // Exactly the limit, then its newline: not cut.
        assert_eq!(all(b"abcd\n", 4).await[0], ("abcd".into(), Read { ended: true, cut: false }));
        assert!(all(b"", 4).await.is_empty());
    }

    #[tokio::test]
    async fn an_endless_line_takes_no_more_than_the_limit() {
        let endless = tokio::io::repeat(b'x');
        let mut reader = tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(endless, 50_000_000));
        let mut buf = Vec::new();
        let read = read_line(&mut reader, &mut buf, 1024).await.unwrap().unwrap();
        assert_eq!(read, Read { ended: false, cut: true });
        assert_eq!(buf.len(), 1024);
        assert!(buf.capacity() < 64 * 1024, "the buffer stayed small: {}", buf.capacity());
    }
}
