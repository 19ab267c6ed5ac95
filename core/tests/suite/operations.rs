//! Backups as docs/operations.md tells an operator to take and restore them, with the real tools:
//! `sportello backup` for a SQLite file (while the server runs), pg_dump and pg_restore for
//! PostgreSQL. A restored database has every row, and a server started on it finds a citizen's
//! booking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::cli::{demo_mailbox, serve_demo_with, sportello, temp_db, text};

/// Every table's rows, counted, and every booking's code, status and times.
async fn contents(url: &str) -> (BTreeMap<String, i64>, Vec<String>) {
    let db = Database::connect(url).await.expect("connect");
    let tables_sql = match db.get_database_backend() {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        _ => "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    };
    let mut counts = BTreeMap::new();
    for table in column(&db, tables_sql, "name").await {
        let rows = query(&db, &format!("SELECT COUNT(*) AS n FROM {table}")).await;
        counts.insert(table, rows[0].try_get::<i64>("", "n").unwrap());
    }
    let bookings = column(
        &db,
        "SELECT code || ' ' || status || ' ' || CAST(starts_at AS TEXT) || ' ' || CAST(ends_at AS TEXT) AS b \
         FROM bookings ORDER BY code",
        "b",
    )
    .await;
    db.close().await.unwrap();
    (counts, bookings)
}

async fn query(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql)
}

async fn column(db: &DatabaseConnection, sql: &str, name: &str) -> Vec<String> {
    query(db, sql).await.iter().map(|row| row.try_get::<String>("", name).unwrap()).collect()
}

/// A confirmed booking of the restored database that a citizen can look up: (tenant, code, e-mail).
async fn a_citizens_booking(url: &str) -> (String, String, String) {
    let db = Database::connect(url).await.expect("connect");
    let rows = query(
        &db,
        "SELECT t.slug AS tenant, b.code AS code, b.email AS email FROM bookings b \
         JOIN tenants t ON t.id = b.tenant_id WHERE b.status = 'confirmed' AND b.email IS NOT NULL \
         ORDER BY b.code LIMIT 1",
    )
    .await;
    let get = |name: &str| rows[0].try_get::<String>("", name).unwrap();
    (get("tenant"), get("code"), get("email"))
}

/// Runs the demo with its bookings on `url` until `while_running` is done.
fn populated(url: &str, while_running: impl FnOnce()) {
    let (server, _, _) = serve_demo_with(url, &demo_mailbox(url), &["--demo-bookings"]);
    while_running();
    drop(server);
}

/// A server on the restored database answers a citizen asking for their booking.
async fn restored_server_finds_a_booking(url: &str) {
    let (tenant, code, email) = a_citizens_booking(url).await;
    let (server, addr, _) = serve_demo_with(url, &demo_mailbox(url), &[]);
    let mut stream = TcpStream::connect(&addr).expect("connect");
    let request = format!(
        "GET /api/v1/t/{tenant}/bookings/{code} HTTP/1.1\r\nHost: {addr}\r\nBooking-Email: {email}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    drop(server);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(&email), "{response}");
}

fn assert_same(original: &(BTreeMap<String, i64>, Vec<String>), restored: &(BTreeMap<String, i64>, Vec<String>)) {
    assert!(original.1.len() > 40, "the demo's bookings: {}", original.1.len());
    assert!(
        original.0.get("outbox_messages").is_some_and(|n| *n > 0)
            && original.0.get("audit_events").is_some_and(|n| *n > 0),
        "{:?}",
        original.0
    );
    assert_eq!(original.0, restored.0, "every table has every row");
    assert_eq!(original.1, restored.1, "every booking as it was");
}

/// A copy taken while the server runs is a sound database with the bookings of that moment (the
/// server may write more after it); a copy of the stopped server's file has every row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_restores_every_booking_and_may_be_taken_while_serving() {
    let original = temp_db();
    let dir = std::env::temp_dir().join(format!("sportello-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (live, stopped) = (dir.join("live.db"), dir.join("stopped.db"));
    let backup = |to: &std::path::Path| sportello(&original, &["backup", "--to", &to.to_string_lossy()]);
    populated(&original, || {
        let out = backup(&live);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!backup(&live).status.success(), "an existing file is never overwritten");
    });
    let out = backup(&stopped);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (sqlite, whole) =
        (|f: &std::path::Path| format!("sqlite://{}?mode=rwc", f.display()), contents(&original).await);
    assert_same(&whole, &contents(&sqlite(&stopped)).await);

    let live = sqlite(&live);
    let db = Database::connect(&live).await.unwrap();
    assert_eq!(column(&db, "PRAGMA integrity_check", "integrity_check").await, ["ok"]);
    db.close().await.unwrap();
    let (_, at_the_time) = contents(&live).await;
    assert!(at_the_time.len() > 40 && at_the_time.iter().all(|b| whole.1.contains(b)), "{at_the_time:?}");
    restored_server_finds_a_booking(&live).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_restores_every_booking_into_a_fresh_database() {
    let Ok(server) = std::env::var("SPORTELLO_TEST_POSTGRES_URL") else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true needs SPORTELLO_TEST_POSTGRES_URL");
        eprintln!("SKIPPED: the PostgreSQL backup test needs SPORTELLO_TEST_POSTGRES_URL");
        return;
    };
    let original = crate::support::fresh_database(&server).await;
    let dump = std::env::temp_dir().join(format!("sportello-{}.dump", uuid::Uuid::new_v4().simple()));
    // pg_dump reads one snapshot of a running database; dumped once the server stopped, every row
    // can be compared.
    populated(&original, || ());
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&original)
        .output()
        .expect("pg_dump (Debian's postgresql-client)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let restored = crate::support::fresh_database(&server).await;
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &restored])
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_same(&contents(&original).await, &contents(&restored).await);
    restored_server_finds_a_booking(&restored).await;
    let _ = std::fs::remove_file(dump);
}
