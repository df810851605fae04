//! Captured lines waiting to be stored, so that a program's output is read as fast as it is written whatever
//! the database does: up to [`MEMORY_BYTES`] wait in memory; past that, lines go to an unnamed temporary file
//! (unnamed: gone when k8x lets go of it, even after a crash) and are read back in order once the database has caught up.
//! Order is kept: while anything waits in the file, new lines go after it.

use std::{
    collections::VecDeque,
    fs::File,
    io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::store::LogCursor;

/// How many bytes of lines one execution keeps in memory before spilling to disk.
pub const MEMORY_BYTES: usize = 4 * 1024 * 1024;
/// The most bytes of lines one [`Spool::take`] hands out (besides its count of lines).
pub const TAKE_BYTES: usize = 4 * 1024 * 1024;
/// Without a disk to spill to, lines past this many bytes in memory are dropped (with an error logged).
const MEMORY_BYTES_WITHOUT_DISK: usize = 4 * MEMORY_BYTES;

/// One captured line on its way to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Captured {
    pub stream: &'static str,
    pub text: String,
    pub source: Option<LogCursor>,
}

impl Captured {
    fn size(&self) -> usize {
        self.text.len() + self.source.as_ref().map_or(0, |c| c.source.len() + c.at.len()) + 32
    }
}

/// A line as it sits in the spill file (one JSON document per line).
#[derive(Serialize, Deserialize)]
struct Spilled {
    stream: String,
    text: String,
    source: Option<(String, String)>,
}

/// The queue between an execution's readers and its log writer.
pub struct Spool {
    inner: Mutex<Inner>,
    /// Wakes the writer when lines arrive or the readers are done.
    ready: Notify,
}

#[derive(Default)]
struct Inner {
    memory: VecDeque<Captured>,
    memory_bytes: usize,
    spill: Option<SpillFile>,
    /// Spilling failed once: memory only from then on (bounded by [`MEMORY_BYTES_WITHOUT_DISK`]).
    no_disk: bool,
    /// Lines dropped for want of room.
    dropped: u64,
    /// Every reader is done: once empty, the writer stops.
    closed: bool,
}

struct SpillFile {
    writer: BufWriter<File>,
    reader: BufReader<File>,
    /// Lines written and not yet read back.
    waiting: usize,
}

/// What the writer gets from [`Spool::take`].
pub enum Taken {
    Lines(Vec<Captured>),
    /// Nothing waits and nothing more will come.
    Done,
}

impl Default for Spool {
    fn default() -> Self {
        Self { inner: Mutex::new(Inner::default()), ready: Notify::new() }
    }
}

impl Spool {
    /// Queues a line; never waits for the database.
    pub fn push(&self, line: Captured) {
        let mut inner = self.inner.lock().expect("the spool's lock is never held across a panic");
        let spilling = inner.spill.as_ref().is_some_and(|s| s.waiting > 0);
        if spilling || (!inner.no_disk && inner.memory_bytes + line.size() > MEMORY_BYTES) {
            match spill(&mut inner, &line) {
                Ok(()) => {
                    drop(inner);
                    self.ready.notify_one();
                    return;
                }
                // Once spilling, lines must not overtake those in the file: a line that cannot follow is lost.
                Err(err) if spilling => {
                    tracing::error!(%err, "could not spill a log line to disk; it is lost");
                    inner.dropped += 1;
                    return;
                }
                Err(err) => {
                    tracing::error!(%err, "could not spill log lines to disk; keeping them in memory, up to a limit");
                    inner.no_disk = true;
                    inner.spill = None;
                }
            }
        }
        if inner.memory_bytes + line.size() > MEMORY_BYTES_WITHOUT_DISK {
            if inner.dropped == 0 {
                tracing::error!("log lines are coming faster than they are stored and cannot wait on disk; dropping");
            }
            inner.dropped += 1;
            return;
        }
        inner.memory_bytes += line.size();
        inner.memory.push_back(line);
        drop(inner);
        self.ready.notify_one();
    }

    /// No more lines will come.
    pub fn close(&self) {
        self.inner.lock().expect("the spool's lock is never held across a panic").closed = true;
        self.ready.notify_one();
    }

    /// Up to `max` lines, oldest first, waiting until there is one.
    pub async fn take(&self, max: usize) -> Taken {
        loop {
            let ready = self.ready.notified();
            {
                let mut inner = self.inner.lock().expect("the spool's lock is never held across a panic");
                let lines = take_now(&mut inner, max);
                if !lines.is_empty() {
                    return Taken::Lines(lines);
                }
                if inner.closed {
                    return Taken::Done;
                }
            }
            ready.await;
        }
    }

    /// Up to `max` lines waiting now, without waiting for more.
    pub fn take_ready(&self, max: usize) -> Taken {
        let mut inner = self.inner.lock().expect("the spool's lock is never held across a panic");
        Taken::Lines(take_now(&mut inner, max))
    }

    /// How many lines wait (in memory and on disk).
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        let inner = self.inner.lock().expect("the spool's lock is never held across a panic");
        inner.memory.len() + inner.spill.as_ref().map_or(0, |s| s.waiting)
    }
}

/// Up to `max` lines and about [`TAKE_BYTES`] (always at least one line), oldest first.
fn take_now(inner: &mut Inner, max: usize) -> Vec<Captured> {
    let mut lines = Vec::new();
    let mut bytes = 0;
    while lines.len() < max && bytes < TAKE_BYTES {
        let Some(line) = inner.memory.pop_front() else { break };
        inner.memory_bytes -= line.size();
        bytes += line.size();
        lines.push(line);
    }
    if lines.len() < max && bytes < TAKE_BYTES {
        if let Some(file) = inner.spill.as_mut() {
            if let Err(err) = read_back(file, max - lines.len(), TAKE_BYTES - bytes, &mut lines) {
                tracing::error!(%err, lost = file.waiting, "could not read spilled log lines back; they are lost");
                inner.spill = None;
            } else if file.waiting == 0 {
                // Caught up: the file starts over (it keeps its space until the execution is done).
                let rewound = file.writer.get_mut().set_len(0).and_then(|_| file.writer.seek(SeekFrom::Start(0)));
                let rewound = rewound.and_then(|_| file.reader.seek(SeekFrom::Start(0)));
                if rewound.is_err() {
                    inner.spill = None;
                }
            }
        }
    }
    lines
}

fn spill(inner: &mut Inner, line: &Captured) -> std::io::Result<()> {
    if inner.spill.is_none() {
        let file = tempfile::tempfile()?;
        let reader = BufReader::new(reopen(&file)?);
        inner.spill = Some(SpillFile { writer: BufWriter::new(file), reader, waiting: 0 });
    }
    let file = inner.spill.as_mut().expect("just made");
    let spilled = Spilled {
        stream: line.stream.to_owned(),
        text: line.text.clone(),
        source: line.source.as_ref().map(|c| (c.source.clone(), c.at.clone())),
    };
    serde_json::to_writer(&mut file.writer, &spilled)?;
    file.writer.write_all(b"\n")?;
    file.waiting += 1;
    Ok(())
}

fn read_back(file: &mut SpillFile, max: usize, max_bytes: usize, into: &mut Vec<Captured>) -> std::io::Result<()> {
    file.writer.flush()?;
    let (mut text, mut bytes, first) = (String::new(), 0, into.len());
    while file.waiting > 0 && (into.len() - first) < max && bytes < max_bytes {
        text.clear();
        if file.reader.read_line(&mut text)? == 0 {
            return Err(std::io::Error::other("the spill file ended early"));
        }
        let spilled: Spilled = serde_json::from_str(&text)?;
        file.waiting -= 1;
        bytes += text.len();
        into.push(Captured {
            stream: stream_name(&spilled.stream),
            text: spilled.text,
            source: spilled.source.map(|(source, at)| LogCursor { source, at }),
        });
    }
    Ok(())
}

/// A second handle on an unnamed file with its own offset (a duplicated descriptor would share the writer's),
/// through `/proc/self/fd`. Where there is no such thing, spilling is not available.
fn reopen(file: &File) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        File::open(format!("/proc/self/fd/{}", file.as_raw_fd()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        Err(std::io::Error::other("spilling log lines to disk needs Linux's /proc"))
    }
}

/// The streams a line can come from.
fn stream_name(name: &str) -> &'static str {
    match name {
        "stdout" => "stdout",
        "stderr" => "stderr",
        _ => "k8x",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, size: usize) -> Captured {
        Captured { stream: if n % 2 == 0 { "stdout" } else { "stderr" }, text: format!("{n:0size$}"), source: None }
    }

    #[tokio::test]
    async fn lines_past_the_memory_budget_wait_on_disk_and_come_back_in_order() {
        let spool = Spool::default();
        let count = 3 * MEMORY_BYTES / 1_000;
        for n in 0..count {
            spool.push(line(n, 1_000));
        }
        {
            let inner = spool.inner.lock().unwrap();
            assert!(inner.memory_bytes <= MEMORY_BYTES, "memory stays within its budget");
            assert!(inner.spill.as_ref().is_some_and(|s| s.waiting > count / 2), "most lines went to disk");
        }
        assert_eq!(spool.waiting(), count);
        spool.close();
        let mut seen = Vec::new();
        while let Taken::Lines(lines) = spool.take(700).await {
            assert!(lines.len() <= 700);
            seen.extend(lines);
            // Lines keep coming in order while the file drains.
            if seen.len() == 1_400 {
                spool.inner.lock().unwrap().closed = false;
                spool.push(line(count, 1_000));
                spool.close();
            }
        }
        assert_eq!(seen.len(), count + 1);
        assert!(seen.iter().enumerate().all(|(n, l)| l == &line(n, 1_000)), "every line, in order, intact");
    }

    #[tokio::test]
    async fn a_writer_waits_for_lines_and_stops_when_closed_and_empty() {
        let spool = std::sync::Arc::new(Spool::default());
        let writer = tokio::spawn({
            let spool = spool.clone();
            async move {
                let mut got = 0;
                while let Taken::Lines(lines) = spool.take(10).await {
                    got += lines.len();
                }
                got
            }
        });
        tokio::task::yield_now().await;
        spool.push(line(0, 5));
        spool.push(line(1, 5));
        spool.close();
        assert_eq!(writer.await.unwrap(), 2);
    }
}
