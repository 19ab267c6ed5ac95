//! Races: the database decides capacity on SQLite and PostgreSQL, whatever the holds say.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: fail loudly

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use sportello::domain::BookingStatus;
use sportello::domain::slots::Unit;
use sportello::holds::{Acquired, Hold, HoldHealth, HoldStore, HoldStoreError, MemoryHolds};
use sportello_tests::{Backend, TEST_NOW, TestServer, on_both_backends};
use uuid::Uuid;

/// A hold store that grants every hold, as a flushed or partitioned Redis might: the ledger
/// alone must then keep bookings within capacity.
struct LyingHolds(MemoryHolds);

#[async_trait]
impl HoldStore for LyingHolds {
    async fn acquire(
        &self,
        hold: &Hold,
        _free: &HashMap<Unit, u32>,
        _max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, HoldStoreError> {
        let unlimited = hold.units.iter().map(|u| (*u, u32::MAX)).collect();
        self.0.acquire(hold, &unlimited, None, now).await
    }
    async fn get(&self, tenant: sportello::domain::TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        self.0.get(tenant, id).await
    }
    async fn release(&self, tenant: sportello::domain::TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        self.0.release(tenant, id).await
    }
    async fn consume(&self, hold: &Hold) -> Result<(), HoldStoreError> {
        self.0.consume(hold).await
    }
    async fn live_counts(
        &self,
        _tenant: sportello::domain::TenantId,
        _office: &str,
        _units: &[Unit],
        _now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError> {
        Ok(HashMap::new())
    }
    async fn throttle(&self, _key: &str, _per_minute: u32, _now: DateTime<Utc>) -> Result<Option<u32>, HoldStoreError> {
        Ok(None)
    }
    async fn health(&self) -> HoldHealth {
        HoldHealth::Ok
    }
}

/// A hold store in which, right after the first hold is placed and before the booking core
/// counts again, the slot fills up with bookings that took no hold (they commit at that moment).
struct FilledWhileCounting {
    holds: Arc<MemoryHolds>,
    store: sportello::store::Store,
    desks: u16,
    /// The units of the first hold, once the slot is filled.
    filled: std::sync::Mutex<Option<Vec<Unit>>>,
}

#[async_trait]
impl HoldStore for FilledWhileCounting {
    async fn acquire(
        &self,
        hold: &Hold,
        free: &HashMap<Unit, u32>,
        max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, HoldStoreError> {
        let acquired = self.holds.acquire(hold, free, max_per_client, now).await?;
        let first = {
            let mut filled = self.filled.lock().unwrap();
            let first = filled.is_none() && acquired == Acquired::Placed;
            if first {
                *filled = Some(hold.units.clone());
            }
            first
        };
        if first {
            for _ in 0..self.desks {
                let office = hold.office.as_str();
                let store = self.store.reader();
                assert!(
                    sportello::store::Ledger::take(store, hold.tenant, office, &hold.units, self.desks).await.unwrap()
                );
            }
        }
        Ok(acquired)
    }
    async fn get(&self, tenant: sportello::domain::TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        self.holds.get(tenant, id).await
    }
    async fn release(&self, tenant: sportello::domain::TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        self.holds.release(tenant, id).await
    }
    async fn consume(&self, hold: &Hold) -> Result<(), HoldStoreError> {
        self.holds.consume(hold).await
    }
    async fn live_counts(
        &self,
        tenant: sportello::domain::TenantId,
        office: &str,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError> {
        self.holds.live_counts(tenant, office, units, now).await
    }
    async fn throttle(&self, _key: &str, _per_minute: u32, _now: DateTime<Utc>) -> Result<Option<u32>, HoldStoreError> {
        Ok(None)
    }
    async fn health(&self) -> HoldHealth {
        HoldHealth::Ok
    }
}

const SLOT: &str = "2026-12-02T08:00:00+01:00";

/// Counts statuses of a batch of responses.
fn tally(statuses: &[u16]) -> BTreeMap<u16, usize> {
    statuses.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(*s).or_default() += 1;
        m
    })
}

/// Confirmed bookings covering each 15-minute unit, read straight from the bookings table.
async fn bookings_per_unit(url: &str) -> BTreeMap<i64, usize> {
    let db = Database::connect(url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT starts_at, ends_at FROM bookings WHERE status = 'confirmed'",
        ))
        .await
        .expect("query");
    let mut units = BTreeMap::new();
    for row in rows {
        let start: DateTime<Utc> = row.try_get("", "starts_at").expect("starts_at");
        let end: DateTime<Utc> = row.try_get("", "ends_at").expect("ends_at");
        for unit in (start.timestamp()..end.timestamp()).step_by(900) {
            *units.entry(unit).or_default() += 1;
        }
    }
    db.close().await.expect("close");
    units
}

/// 200 citizens race for one slot with 3 desks through the API: 3 bookings, 197 clean 409s.
async fn two_hundred_citizens_three_desks(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start(backend).await);
    let attempts = (0..200).map(|i| {
        let s = s.clone();
        async move {
            let (status, hold) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
            if status != 201 {
                return status;
            }
            s.book("prova", &hold, &format!("c{i}@example.it")).await.0
        }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(tally(&statuses), BTreeMap::from([(201, 3), (409, 197)]), "{}", s.backend);
    assert_eq!(s.app.count_bookings("prova", BookingStatus::Confirmed).await.unwrap(), 3);
    assert_eq!(bookings_per_unit(&url).await.values().max(), Some(&3));
}

/// Every hold is granted; 200 confirmations race in the database: still exactly 3.
async fn lying_holds_cannot_oversell(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start_with(backend, Arc::new(LyingHolds(MemoryHolds::new())), TEST_NOW).await);
    let mut holds = Vec::new();
    for _ in 0..200 {
        let (status, hold) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
        assert_eq!(status, 201);
        holds.push(hold);
    }
    let confirms = holds.iter().enumerate().map(|(i, hold)| {
        let s = s.clone();
        async move { s.book("prova", hold, &format!("l{i}@example.it")).await.0 }
    });
    let statuses = join_all(confirms).await;
    assert_eq!(tally(&statuses), BTreeMap::from([(201, 3), (409, 197)]), "{}", s.backend);
    assert_eq!(bookings_per_unit(&url).await.values().max(), Some(&3));
}

/// One-hour and half-hour bookings overlapping on 08:30–09:00 race with lying holds: no
/// 15-minute unit ever has more than its 3 desks.
async fn mixed_durations_share_desks(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start_with(backend, Arc::new(LyingHolds(MemoryHolds::new())), TEST_NOW).await);
    let mut holds = Vec::new();
    for i in 0..120 {
        let (service, start) = if i % 2 == 0 { ("lunga", SLOT) } else { ("visita", "2026-12-02T08:30:00+01:00") };
        let (status, hold) = s.hold("prova", service, "sede", "in_person", start).await;
        assert_eq!(status, 201, "{hold}");
        holds.push(hold);
    }
    let confirms = holds.iter().enumerate().map(|(i, hold)| {
        let s = s.clone();
        async move { s.book("prova", hold, &format!("m{i}@example.it")).await.0 }
    });
    let statuses = join_all(confirms).await;
    let counts = tally(&statuses);
    assert_eq!(counts.get(&201), Some(&3), "every booking covers 08:30, so 3 in all: {counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 120);
    assert!(counts.keys().all(|s| *s == 201 || *s == 409), "{counts:?}");
    let per_unit = bookings_per_unit(&url).await;
    assert!(per_unit.values().all(|n| *n <= 3), "{per_unit:?}");
}

/// 12 bookings at different times all try to move into one 3-desk slot at once: 3 move, the
/// others keep their original time.
async fn concurrent_reschedules(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start_with(backend, Arc::new(LyingHolds(MemoryHolds::new())), TEST_NOW).await);
    let mut bookings = Vec::new();
    for i in 0..12 {
        let start = format!("2026-12-0{}T{:02}:00:00+01:00", 3 + i / 4, 8 + i % 4);
        let (_, hold) = s.hold("prova", "visita", "sede", "in_person", &start).await;
        let (status, booking) = s.book("prova", &hold, &format!("r{i}@example.it")).await;
        assert_eq!(status, 201, "{booking}");
        bookings.push((booking["code"].as_str().unwrap().to_owned(), format!("r{i}@example.it"), start));
    }
    let moves = bookings.iter().map(|(code, email, _)| {
        let s = s.clone();
        async move {
            let (_, hold) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
            let body = json!({"email": email, "hold_id": hold["hold_id"], "hold_token": hold["hold_token"]});
            s.post(&s.url("prova", &format!("/bookings/{code}/reschedule")), &body).await.0
        }
    });
    let statuses = join_all(moves).await;
    assert_eq!(tally(&statuses), BTreeMap::from([(200, 3), (409, 9)]), "{}", s.backend);
    let mut moved = 0;
    for (code, email, original) in &bookings {
        let (_, booking) = s.booking("prova", code, email).await;
        let start = booking["start"].as_str().unwrap();
        assert!(start == SLOT || start == original, "{code}: {start}");
        moved += usize::from(start == SLOT);
    }
    assert_eq!(moved, 3);
    assert!(bookings_per_unit(&url).await.values().all(|n| *n <= 3));
}

/// The capacity ledger agrees with the confirmed bookings, unit by unit.
async fn assert_ledger_matches_bookings(url: &str) {
    let db = Database::connect(url).await.expect("connect");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT unit_start, used FROM capacity_ledger WHERE used > 0",
        ))
        .await
        .expect("query");
    let ledger: BTreeMap<i64, usize> = rows
        .iter()
        .map(|row| {
            let used: i32 = row.try_get("", "used").expect("used");
            (row.try_get("", "unit_start").expect("unit_start"), usize::try_from(used).expect("not negative"))
        })
        .collect();
    db.close().await.expect("close");
    assert_eq!(ledger, bookings_per_unit(url).await, "ledger and bookings disagree");
}

fn problem_type(body: &serde_json::Value) -> &str {
    body["type"].as_str().unwrap_or_default()
}

/// Five confirmations of one hold at the same moment (each with other details, no
/// Idempotency-Key) make one booking; the slot's other live hold still confirms.
async fn one_hold_one_booking(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start(backend).await);
    let (_, first) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
    assert_eq!(s.book("prova", &first, "first@example.it").await.0, 201);
    // Two clients hold the last two desks.
    let (mine, theirs) = (
        s.hold("prova", "visita", "sede", "in_person", SLOT).await,
        s.hold("prova", "visita", "sede", "in_person", SLOT).await,
    );
    assert_eq!((mine.0, theirs.0), (201, 201));
    assert_eq!(s.remaining("prova", "visita", "sede", SLOT).await, None);
    let twins = (0..5).map(|i| {
        let (s, hold) = (s.clone(), mine.1.clone());
        async move { s.book("prova", &hold, &format!("twin{i}@example.it")).await }
    });
    let answers = join_all(twins).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(tally(&statuses), BTreeMap::from([(201, 1), (409, 4)]), "{}: {answers:?}", s.backend);
    let code = answers.iter().find(|(status, _)| *status == 201).map(|(_, b)| b["code"].clone()).unwrap();
    for (_, body) in answers.iter().filter(|(status, _)| *status == 409) {
        assert_eq!(problem_type(body), "/problems/hold-used", "{body}");
    }
    let (status, booking) = s.book("prova", &theirs.1, "other@example.it").await;
    assert_eq!(status, 201, "the other client's live hold still confirms: {booking}");
    assert_eq!(s.app.count_bookings("prova", BookingStatus::Confirmed).await.unwrap(), 3);
    assert_ledger_matches_bookings(&url).await;
    // Sending the spent hold again says which booking it became.
    let (status, body) = s.book("prova", &mine.1, "late@example.it").await;
    assert_eq!((status, problem_type(&body)), (409, "/problems/hold-used"));
    assert!(body["detail"].as_str().unwrap().contains(code.as_str().unwrap()), "{body}");
}

/// Five moves of one booking with one hold at the same moment move it once; the target slot's
/// other live hold still confirms. Two moves of one booking to different holds at the same
/// moment: one wins, and the old place is given back once.
async fn one_hold_one_move(backend: Backend) {
    let url = backend.url.clone();
    let s = Arc::new(TestServer::start(backend).await);
    let old = "2026-12-02T10:00:00+01:00";
    let mut booked = Vec::new();
    for who in ["mover", "neighbour"] {
        let (_, hold) = s.hold("prova", "visita", "sede", "in_person", old).await;
        let (status, booking) = s.book("prova", &hold, &format!("{who}@example.it")).await;
        assert_eq!(status, 201, "{booking}");
        booked.push(booking["code"].as_str().unwrap().to_owned());
    }
    let (_, first) = s.hold("prova", "visita", "sede", "in_person", SLOT).await;
    assert_eq!(s.book("prova", &first, "first@example.it").await.0, 201);
    let (target, other) = (
        s.hold("prova", "visita", "sede", "in_person", SLOT).await.1,
        s.hold("prova", "visita", "sede", "in_person", SLOT).await.1,
    );
    let reschedule = s.url("prova", &format!("/bookings/{}/reschedule", booked[0]));
    let moves = (0..5).map(|_| {
        let (s, url) = (s.clone(), reschedule.clone());
        let body =
            json!({"email": "mover@example.it", "hold_id": target["hold_id"], "hold_token": target["hold_token"]});
        async move { s.post(&url, &body).await.0 }
    });
    let statuses = join_all(moves).await;
    assert_eq!(tally(&statuses), BTreeMap::from([(200, 1), (409, 4)]), "{}", s.backend);
    assert_eq!(s.book("prova", &other, "other@example.it").await.0, 201, "the other live hold still confirms");
    assert_eq!(s.remaining("prova", "visita", "sede", old).await, Some(2), "the old place was given back once");
    assert_ledger_matches_bookings(&url).await;

    // The neighbour moves to two places at once: one move wins, the other finds the booking moved.
    let (nine, eleven) = ("2026-12-02T09:00:00+01:00", "2026-12-02T11:00:00+01:00");
    let holds = [
        s.hold("prova", "visita", "sede", "in_person", nine).await.1,
        s.hold("prova", "visita", "sede", "in_person", eleven).await.1,
    ];
    let reschedule = s.url("prova", &format!("/bookings/{}/reschedule", booked[1]));
    let moves = holds.iter().map(|hold| {
        let (s, url) = (s.clone(), reschedule.clone());
        let body =
            json!({"email": "neighbour@example.it", "hold_id": hold["hold_id"], "hold_token": hold["hold_token"]});
        async move { s.post(&url, &body).await }
    });
    let answers = join_all(moves).await;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    // If both requests read the booking before either moved it, one move wins and the other finds
    // it changed (409). If one reads it after the other moved it, that is a second move, made in
    // its turn (200 twice): which of the two happens is the scheduler's choice. Either way the
    // booking is at one of the two times, the old place was given back once, and the ledger
    // counts exactly the bookings.
    let outcome = tally(&statuses);
    let (one_won, in_turn) = (BTreeMap::from([(200, 1), (409, 1)]), BTreeMap::from([(200, 2)]));
    assert!(outcome == one_won || outcome == in_turn, "{}: {answers:?}", s.backend);
    let (_, now) = s.booking("prova", &booked[1], "neighbour@example.it").await;
    let moved_to = now["start"].as_str().unwrap();
    assert!(moved_to == nine || moved_to == eleven, "{now}");
    // The booking is where the last successful answer said.
    assert!(answers.iter().any(|(status, b)| *status == 200 && b["start"] == moved_to), "{answers:?}");
    assert_eq!(s.remaining("prova", "visita", "sede", old).await, Some(3));
    assert_ledger_matches_bookings(&url).await;
}

/// A hold refused because the slot filled while it was being counted leaves nothing behind:
/// a hold kept in the store after the citizen was told "taken" would hide a place from
/// everyone until it expired.
async fn a_refused_hold_leaves_no_hold_behind(backend: Backend) {
    let store = sportello::server::open_store(&backend.url).await.unwrap();
    let holds = Arc::new(MemoryHolds::new());
    let filling = Arc::new(FilledWhileCounting { holds: holds.clone(), store, desks: 1, filled: Default::default() });
    let s = TestServer::start_with(backend, filling.clone(), TEST_NOW).await;
    let (status, refused) = s.hold("prova", "visita", "piccolo", "in_person", SLOT).await;
    assert_eq!(status, 409, "{refused}");
    let tenant = s.app.tenant("prova").await.unwrap().id;
    let units = filling.filled.lock().unwrap().clone().expect("a hold was placed");
    let now = DateTime::parse_from_rfc3339(TEST_NOW).unwrap().to_utc();
    let live = holds.live_counts(tenant, "piccolo", &units, now).await.unwrap();
    assert!(live.is_empty(), "a refused hold is still counted: {live:?}");
}

on_both_backends!(
    a_refused_hold_leaves_no_hold_behind,
    one_hold_one_booking,
    one_hold_one_move,
    two_hundred_citizens_three_desks,
    lying_holds_cannot_oversell,
    mixed_durations_share_desks,
    concurrent_reschedules
);
