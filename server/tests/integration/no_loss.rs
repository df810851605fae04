//! Nothing lost, nothing run twice, while k8x is SIGKILLed and restarted at random moments (and, on Kafka, the
//! broker restarted once): every event the client saw accepted gets exactly one execution of the service it
//! triggers. The real `k8x` binary, as a separate process. Short form here (`K8X_NO_LOSS_EVENTS`, default
//! 2,000); `scripts/no-loss.sh` runs 100,000.

use std::{
    process::{Child, Command},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use rand::Rng;
use sea_orm::{ConnectionTrait, Database, Statement};

use crate::{broker::Broker, helpers};

/// One `k8x` process on a fixed port and data directory.
struct K8x {
    port: u16,
    dir: std::path::PathBuf,
    kafka: Option<String>,
    /// A shared database (several processes); else SQLite in the data directory.
    database: Option<String>,
    child: Option<Child>,
}

impl K8x {
    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_k8x"))
            .env("K8X_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("K8X_DATA_DIR", self.dir.join("data"))
            .env("K8X_PROJECT_DIR", self.dir.join("project"))
            .env("K8X_CONFIG", self.dir.join("none.toml"))
            .env("K8X_ADMIN_PASSWORD", helpers::ADMIN_PASSWORD)
            .env("K8X_BOOTSTRAP_TOKEN", helpers::ADMIN_TOKEN)
            .env("K8X_KAFKA_TOPIC", "k8x.noloss")
            .env("K8X_KAFKA_PARTITIONS", "3")
            .env("RUST_LOG", "warn")
            .envs(self.kafka.iter().map(|b| ("K8X_KAFKA_BROKERS", b.clone())))
            .env_remove("K8X_DATABASE_URL")
            .envs(self.database.iter().map(|url| ("K8X_DATABASE_URL", url.clone())))
            // Processes sharing a database share the key that seals its secrets.
            .env("K8X_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("k8x starts");
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }
}

impl K8x {
    /// Sends SIGTERM and waits (at most `within`) for the process to exit; its exit status.
    fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "k8x did not stop within {within:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for K8x {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Posts event `id` (type `t.tick`) to the first of `bases` that accepts it, again and again until one does
/// (a retry of an event stored before its answer was lost is the same event); returns how many tries failed.
async fn post_until_accepted(client: &reqwest::Client, bases: &[String], id: &str) -> u64 {
    let mut retries = 0;
    loop {
        for base in bases {
            let response = helpers::event_to(client, base, id, "t.tick").send().await;
            if response.is_ok_and(|r| r.status() == 202) {
                return retries;
            }
            retries += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where each run of `tick` appends its execution id: the processes that really ran. Under `/dev/shm`: a local
/// execution may write there (and not beside k8x's data directory, which is under `/tmp` in tests).
fn ran_file(dir: &std::path::Path) -> std::path::PathBuf {
    let name = dir.file_name().unwrap().to_string_lossy();
    std::path::PathBuf::from(format!("/dev/shm/k8x-ran-{name}.txt"))
}

/// No execution's process ran twice (a run cut short by a SIGKILL may not have written its line: at most once).
fn assert_ran_at_most_once(dir: &std::path::Path) {
    let text = std::fs::read_to_string(ran_file(dir)).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let _ = std::fs::remove_file(ran_file(dir));
    let twice: Vec<&str> = text.lines().filter(|id| !seen.insert(*id)).collect();
    assert!(twice.is_empty(), "executions that ran twice: {twice:?}");
    assert!(!seen.is_empty(), "the service ran");
}

async fn no_loss(kafka: Option<&Broker>) {
    let events: usize = std::env::var("K8X_NO_LOSS_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let dir = tempfile::TempDir::new().unwrap();
    helpers::service(
        &dir.path().join("project"),
        "tick",
        r#"{"name": "tick", "type": "k8x_job", "trigger_events": ["t.tick"]}"#,
        &format!("echo $K8X_EXECUTION_ID >> {}", ran_file(dir.path()).display()),
        &[],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut k8x =
        K8x { port, dir: dir.path().to_owned(), kafka: kafka.map(Broker::bootstrap), database: None, child: None };
    k8x.start();
    let base = format!("http://127.0.0.1:{port}");
    let client = helpers::client_builder().timeout(Duration::from_secs(20)).build().unwrap();

    // The poster: each event until it is accepted (a retry of an event that was stored before its answer was
    // lost is the same event: it must not run twice).
    let done = Arc::new(AtomicBool::new(false));
    let poster = {
        let (client, base, done) = (client.clone(), base.clone(), done.clone());
        tokio::spawn(async move {
            use futures::StreamExt;
            let retries: u64 = futures::stream::iter(0..events)
                .map(|n| {
                    let (client, base) = (client.clone(), base.clone());
                    async move { post_until_accepted(&client, &[base], &format!("tick-{n}")).await }
                })
                .buffer_unordered(16)
                .fold(0, |sum, n| async move { sum + n })
                .await;
            done.store(true, Ordering::SeqCst);
            retries
        })
    };
    // The killer: SIGKILL and restart at random moments while the poster works; on Kafka, one broker restart.
    let mut kills = 0;
    while !done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(300..1200))).await;
        if done.load(Ordering::SeqCst) {
            break;
        }
        k8x.kill();
        kills += 1;
        if kills == 2 {
            if let Some(broker) = kafka {
                broker.stop().await;
                broker.start_again().await;
            }
        }
        k8x.start();
    }
    let retries = poster.await.unwrap();
    assert!(kills >= 2, "k8x must have been killed during the run (killed {kills} times)");

    // Every accepted event gets exactly one execution of `tick`.
    let db = Database::connect(format!("sqlite://{}?mode=ro", dir.path().join("data/k8x.db").display())).await.unwrap();
    let count = |sql: &'static str| {
        let db = &db;
        async move {
            let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()));
            row.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
        }
    };
    // After the last kill, a Kafka consumer group waits out the dead member's session before it rebalances; then
    // the backlog drains. Waited for as long as it moves (a large run takes minutes), given up after 60 s without
    // progress.
    let (mut runs, mut last_progress) = (0, std::time::Instant::now());
    while runs as usize != events && last_progress.elapsed() < Duration::from_secs(60) {
        let now = count("SELECT count(DISTINCT event_id) AS n FROM executions WHERE service = 'tick'").await;
        if now != runs {
            (runs, last_progress) = (now, std::time::Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(runs as usize, events, "every accepted event ran ({kills} kills, {retries} client retries)");
    k8x.kill();
    assert_ran_at_most_once(dir.path());
    eprintln!("no loss: {events} events, {kills} SIGKILLs, {retries} client retries");
}

#[tokio::test]
async fn no_event_is_lost_or_run_twice_while_k8x_is_killed_on_the_embedded_bus() {
    no_loss(None).await;
}

#[tokio::test]
async fn no_event_is_lost_or_run_twice_while_k8x_and_the_broker_are_restarted_on_kafka() {
    let broker = Broker::start().await;
    no_loss(Some(&broker)).await;
}

/// Two k8x processes on one PostgreSQL and one Kafka topic share the dispatcher group (each takes partitions);
/// one is SIGKILLed mid-stream and every accepted event still runs exactly once.
#[tokio::test]
async fn two_processes_in_one_group_split_the_work_and_survive_one_being_killed() {
    let broker = Broker::start().await;
    two_processes(Some(&broker)).await;
}

/// Two k8x processes on one PostgreSQL with the embedded bus: one holds the dispatcher group at a time; the
/// holder is SIGKILLed mid-stream, the other takes the group over when its lease runs out, and every accepted
/// event still runs exactly once.
#[tokio::test]
async fn two_processes_on_the_embedded_bus_take_over_from_one_killed() {
    two_processes(None).await;
}

async fn two_processes(kafka: Option<&Broker>) {
    use futures::StreamExt;
    use rdkafka::{consumer::Consumer, ClientConfig};
    let db = crate::postgres::TestDatabase::create().await;
    let dir = tempfile::TempDir::new().unwrap();
    helpers::service(
        &dir.path().join("project"),
        "tick",
        r#"{"name": "tick", "type": "k8x_job", "trigger_events": ["t.tick"]}"#,
        &format!("echo $K8X_EXECUTION_ID >> {}", ran_file(dir.path()).display()),
        &[],
    );
    let mut processes: Vec<K8x> = (0..2)
        .map(|n| {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let own = dir.path().join(format!("p{n}"));
            std::fs::create_dir_all(&own).unwrap();
            let _ = std::os::unix::fs::symlink(dir.path().join("project"), own.join("project"));
            K8x { port, dir: own, kafka: kafka.map(Broker::bootstrap), database: Some(db.url.clone()), child: None }
        })
        .collect();
    for process in &mut processes {
        process.start();
    }
    let client = helpers::client_builder().timeout(Duration::from_secs(20)).build().unwrap();
    // Both are up (and, on Kafka, both joined the group).
    for process in &processes {
        let health = format!("http://127.0.0.1:{}/health", process.port);
        helpers::wait_until(|| async { client.get(&health).send().await.ok().filter(|r| r.status() == 200) }).await;
    }
    if let Some(broker) = kafka {
        let inspector: rdkafka::consumer::BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", broker.bootstrap()).create().unwrap();
        helpers::wait_until(|| async {
            let groups = inspector.fetch_group_list(Some(backend::dispatcher::GROUP), Duration::from_secs(5)).ok()?;
            let members = groups.groups().first().map(|g| g.members().len()).unwrap_or(0);
            (members == 2).then_some(())
        })
        .await;
    }
    let ports: Vec<u16> = processes.iter().map(|p| p.port).collect();
    let posted = futures::stream::iter(0..1000usize)
        .map(|n| {
            let client = client.clone();
            // Alternate between the processes; the killed one refuses, so the other takes it.
            let bases = [ports[n % 2], ports[(n + 1) % 2]].map(|port| format!("http://127.0.0.1:{port}"));
            async move { post_until_accepted(&client, &bases, &format!("pair-{n}")).await }
        })
        .buffer_unordered(16)
        .collect::<Vec<u64>>();
    // Kill one mid-stream: on the embedded bus, the one holding the group.
    let holder = if kafka.is_some() { 0 } else { group_holder(&db.url, &processes).await };
    let killer = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        processes[holder].kill();
    };
    let ((), _) = tokio::join!(killer, posted);
    let count = |sql: String| {
        let admin = Database::connect(db.url.clone());
        async move {
            let admin = admin.await.unwrap();
            let row = admin.query_one_raw(Statement::from_string(admin.get_database_backend(), sql));
            row.await.unwrap().unwrap().try_get::<i64>("", "n").unwrap()
        }
    };
    let mut runs = 0;
    for _ in 0..1200 {
        runs = count("SELECT count(DISTINCT event_id) AS n FROM executions WHERE service = 'tick'".into()).await;
        if runs == 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(runs, 1000, "every accepted event ran, the survivor taking over the killed one's work");
    drop(processes);
    assert_ran_at_most_once(dir.path());
    db.drop().await;
}

/// Which of `processes` holds the embedded bus's dispatcher group (the one whose name is its data directory's
/// `instance`), once one does.
async fn group_holder(url: &str, processes: &[K8x]) -> usize {
    let db = Database::connect(url.to_owned()).await.unwrap();
    let sql = format!("SELECT owner FROM bus_offsets WHERE group_id = '{}'", backend::dispatcher::GROUP);
    helpers::wait_until(|| async {
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.clone())).await.ok()??;
        let owner: Option<String> = row.try_get("", "owner").ok()?;
        let owner = owner?;
        processes
            .iter()
            .position(|p| std::fs::read_to_string(p.dir.join("data/instance")).is_ok_and(|id| id.trim() == owner))
    })
    .await
}

/// The real binary on PostgreSQL: thousands of requests abandoned mid-flight leave nothing behind (no connection
/// idle in a transaction), health and dispatch still work, and SIGTERM stops it cleanly — after letting the
/// execution that runs finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_abandoned_requests_a_sigterm_stops_k8x_cleanly_and_lets_the_running_execution_finish() {
    let db = crate::postgres::TestDatabase::create().await;
    let dir = tempfile::TempDir::new().unwrap();
    helpers::service(
        &dir.path().join("project"),
        "slowpoke",
        r#"{"name": "slowpoke", "type": "k8x_job", "trigger_events": ["t.slowpoke"]}"#,
        "echo started; sleep 2; echo finished",
        &[],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut k8x = K8x { port, dir: dir.path().to_owned(), kafka: None, database: Some(db.url.clone()), child: None };
    k8x.start();
    let base = format!("http://127.0.0.1:{port}");
    let client = helpers::client_builder().build().unwrap();
    helpers::wait_until(|| async {
        client.get(format!("{base}/health")).send().await.ok().filter(|r| r.status() == 200)
    })
    .await;

    assert!(helpers::abandon_requests(&base, 2000).await > 100, "many requests were abandoned");
    let watcher = Database::connect(db.url.clone()).await.unwrap();
    let query = |sql: String| {
        let watcher = &watcher;
        async move {
            let row = watcher.query_one_raw(Statement::from_string(watcher.get_database_backend(), sql));
            row.await.unwrap().unwrap()
        }
    };
    let idle = format!(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND state = 'idle in transaction'",
        db.name
    );
    helpers::wait_until(|| async { (query(idle.clone()).await.try_get::<i64>("", "n").unwrap() == 0).then_some(()) })
        .await;
    assert_eq!(client.get(format!("{base}/health")).send().await.unwrap().status(), 200);

    // Something runs when the SIGTERM comes: it is let finish.
    let posted = helpers::event_to(&client, &base, "last-one", "t.slowpoke").send().await.unwrap();
    assert_eq!(posted.status(), 202);
    let status = || async {
        let sql = "SELECT status FROM executions WHERE event_id = 'last-one'".to_owned();
        let row = watcher.query_one_raw(Statement::from_string(watcher.get_database_backend(), sql)).await.unwrap();
        row.map(|r| r.try_get::<String>("", "status").unwrap())
    };
    helpers::wait_until(|| async { status().await.filter(|s| s == "running") }).await;
    let exit = tokio::task::block_in_place(|| k8x.terminate(Duration::from_secs(40)));
    assert!(exit.success(), "a clean stop: {exit:?}");
    assert_eq!(status().await.as_deref(), Some("succeeded"), "the running execution was let finish");
    drop(watcher);
    db.drop().await;
}
