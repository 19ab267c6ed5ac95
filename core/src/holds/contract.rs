//! What every `HoldStore` must do, run against the in-process store and against real Redis.
//! Redis runs when `SPORTELLO_TEST_REDIS_URL` is set (`scripts/test` sets it; under CI it must).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::{Acquired, Hold, HoldHealth, HoldStore, HoldToken, MemoryHolds, RedisHolds};
use crate::domain::slots::Unit;
use crate::domain::{Mode, Slug, TenantId};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn hold(tenant: i32, office: &str, units: &[Unit], expires_at: DateTime<Utc>) -> Hold {
    Hold {
        id: Uuid::new_v4(),
        tenant: TenantId::from_stored(tenant),
        service: Slug::parse("s").unwrap(),
        office: Slug::parse(office).unwrap(),
        mode: Mode::InPerson,
        start: DateTime::from_timestamp(units[0], 0).unwrap(),
        end: DateTime::from_timestamp(units[units.len() - 1] + 900, 0).unwrap(),
        units: units.to_vec(),
        expires_at,
        client: None,
        owner: HoldToken::generate(&mut rand::rng()).digest(),
    }
}

async fn capacity_release_expiry_and_isolation(store: &dyn HoldStore) {
    let later = now() + TimeDelta::minutes(10);
    let free = HashMap::from([(0, 2), (900, 1)]);
    let first = hold(1, "o", &[0], later);
    let second = hold(1, "o", &[0, 900], later);
    let third = hold(1, "o", &[0], later);
    assert_eq!(store.acquire(&first, &free, None, now()).await.unwrap(), Acquired::Placed);
    assert_eq!(store.acquire(&second, &free, None, now()).await.unwrap(), Acquired::Placed);
    assert_eq!(store.acquire(&third, &free, None, now()).await.unwrap(), Acquired::Full, "unit 0 is full");
    assert_eq!(
        store.live_counts(TenantId::from_stored(1), "o", &[0, 900], now()).await.unwrap(),
        HashMap::from([(0, 2), (900, 1)])
    );
    assert_eq!(
        store.live_counts(TenantId::from_stored(1), "o", &[0], now()).await.unwrap(),
        HashMap::from([(0, 2)]),
        "only the units asked for"
    );
    assert!(store.live_counts(TenantId::from_stored(1), "other", &[0, 900], now()).await.unwrap().is_empty());
    // Another tenant's office of the same name is separate capacity, and cannot touch tenant 1's holds.
    assert_eq!(store.acquire(&hold(2, "o", &[0], later), &free, None, now()).await.unwrap(), Acquired::Placed);
    assert!(!store.release(TenantId::from_stored(2), first.id).await.unwrap());
    assert_eq!(store.get(TenantId::from_stored(2), second.id).await.unwrap(), None);
    assert!(store.release(TenantId::from_stored(1), first.id).await.unwrap());
    assert!(!store.release(TenantId::from_stored(1), first.id).await.unwrap(), "already released");
    store.consume(&second).await.unwrap();
    assert_eq!(store.get(TenantId::from_stored(1), second.id).await.unwrap(), None, "a consumed hold is gone");
    assert!(store.live_counts(TenantId::from_stored(1), "o", &[900], now()).await.unwrap().is_empty());
    assert_eq!(store.acquire(&second, &free, None, now()).await.unwrap(), Acquired::Placed);
    assert_eq!(store.acquire(&third, &free, None, now()).await.unwrap(), Acquired::Placed);
    // After expiry nothing is live, but the hold can still be read for a while.
    let after = later + TimeDelta::seconds(1);
    assert!(store.live_counts(TenantId::from_stored(1), "o", &[0, 900], after).await.unwrap().is_empty());
    assert_eq!(store.get(TenantId::from_stored(1), second.id).await.unwrap(), Some(second.clone()));
    assert_eq!(
        store.acquire(&hold(1, "o", &[0, 900], after + TimeDelta::minutes(10)), &free, None, after).await.unwrap(),
        Acquired::Placed
    );
}

async fn retries_are_idempotent_and_renewals_extend(store: &dyn HoldStore) {
    let free = HashMap::from([(0, 1)]);
    let mine = hold(3, "o", &[0], now() + TimeDelta::minutes(10));
    assert_eq!(store.acquire(&mine, &free, None, now()).await.unwrap(), Acquired::Placed);
    assert_eq!(
        store.acquire(&mine, &free, None, now()).await.unwrap(),
        Acquired::Placed,
        "the same id again is the same hold"
    );
    assert_eq!(store.live_counts(TenantId::from_stored(3), "o", &[0], now()).await.unwrap(), HashMap::from([(0, 1)]));
    let renewed = Hold { expires_at: now() + TimeDelta::minutes(30), ..mine.clone() };
    let later = now() + TimeDelta::minutes(20);
    assert_eq!(store.acquire(&renewed, &free, None, later).await.unwrap(), Acquired::Placed);
    assert_eq!(
        store.get(TenantId::from_stored(3), mine.id).await.unwrap().map(|h| h.expires_at),
        Some(renewed.expires_at)
    );
    assert_eq!(
        store.acquire(&hold(3, "o", &[0], later + TimeDelta::minutes(10)), &free, None, later).await.unwrap(),
        Acquired::Full
    );
    // Asked again when its place is gone (a booking took it meanwhile; or an instance placed it,
    // then died before answering), the hold is refused and dropped: no place hides behind it.
    let orphan = hold(3, "p", &[0], later + TimeDelta::minutes(10));
    assert_eq!(store.acquire(&orphan, &free, None, later).await.unwrap(), Acquired::Placed);
    let gone = HashMap::from([(0, 0)]);
    assert_eq!(store.acquire(&orphan, &gone, None, later).await.unwrap(), Acquired::Full);
    assert_eq!(store.get(TenantId::from_stored(3), orphan.id).await.unwrap(), None, "the refused hold is dropped");
    assert!(store.live_counts(TenantId::from_stored(3), "p", &[0], later).await.unwrap().is_empty());
    // An expired hold refused again stays readable: a late confirmation names its slot with it.
    let lapsed = hold(3, "q", &[0], later + TimeDelta::minutes(10));
    assert_eq!(store.acquire(&lapsed, &free, None, later).await.unwrap(), Acquired::Placed);
    let after = later + TimeDelta::minutes(11);
    let again = Hold { expires_at: after + TimeDelta::minutes(10), ..lapsed.clone() };
    assert_eq!(store.acquire(&again, &gone, None, after).await.unwrap(), Acquired::Full);
    assert_eq!(store.get(TenantId::from_stored(3), lapsed.id).await.unwrap(), Some(lapsed));
    // Someone who knows the id but not the secret cannot move the hold.
    let stolen = Hold { owner: HoldToken::generate(&mut rand::rng()).digest(), units: vec![900], ..renewed.clone() };
    let roomy = HashMap::from([(0, 5), (900, 5)]);
    assert_eq!(store.acquire(&stolen, &roomy, None, later).await.unwrap(), Acquired::NotOwner);
    assert_eq!(store.get(TenantId::from_stored(3), mine.id).await.unwrap(), Some(renewed), "the hold is unchanged");
}

async fn concurrent_acquisitions_respect_capacity(store: Arc<dyn HoldStore>) {
    let free = Arc::new(HashMap::from([(0, 3), (900, 3)]));
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let (store, free) = (store.clone(), free.clone());
            tokio::spawn(async move {
                store
                    .acquire(&hold(4, "o", &[0, 900], now() + TimeDelta::minutes(5)), &free, None, now())
                    .await
                    .unwrap()
                    == Acquired::Placed
            })
        })
        .collect();
    let mut placed = 0;
    for task in tasks {
        placed += usize::from(task.await.unwrap());
    }
    assert_eq!(placed, 3);
    assert_eq!(store.health().await, HoldHealth::Ok);
}

async fn a_client_keeps_at_most_its_share(store: &dyn HoldStore) {
    let free = HashMap::from([(0, 10), (900, 10), (1800, 10)]);
    let later = now() + TimeDelta::minutes(10);
    let mine = |units: &[Unit]| Hold { client: Some("203.0.113.7".into()), ..hold(6, "o", units, later) };
    let (a, b, c) = (mine(&[0]), mine(&[900]), mine(&[1800]));
    assert_eq!(store.acquire(&a, &free, Some(2), now()).await.unwrap(), Acquired::Placed);
    assert_eq!(store.acquire(&b, &free, Some(2), now()).await.unwrap(), Acquired::Placed);
    assert_eq!(store.acquire(&c, &free, Some(2), now()).await.unwrap(), Acquired::ClientLimit);
    assert_eq!(
        store.acquire(&b, &free, Some(2), now()).await.unwrap(),
        Acquired::Placed,
        "a retry is not a third hold"
    );
    let other = Hold { client: Some("198.51.100.9".into()), ..hold(6, "o", &[1800], later) };
    assert_eq!(store.acquire(&other, &free, Some(2), now()).await.unwrap(), Acquired::Placed, "another client");
    assert!(store.release(TenantId::from_stored(6), a.id).await.unwrap());
    assert_eq!(
        store.acquire(&c, &free, Some(2), now()).await.unwrap(),
        Acquired::Placed,
        "a released hold frees its share"
    );
    let after_expiry = later + TimeDelta::seconds(1);
    let d = Hold { expires_at: after_expiry + TimeDelta::minutes(10), ..mine(&[0]) };
    assert_eq!(
        store.acquire(&d, &free, Some(2), after_expiry).await.unwrap(),
        Acquired::Placed,
        "expired holds free it too"
    );
}

async fn buckets_refill_at_their_rate(store: &dyn HoldStore) {
    let key = format!("bucket-{}", Uuid::new_v4().simple());
    for _ in 0..3 {
        assert_eq!(store.throttle(&key, 3, now()).await.unwrap(), None);
    }
    assert_eq!(store.throttle(&key, 3, now()).await.unwrap(), Some(20), "one token every 20 s");
    let later = now() + TimeDelta::seconds(21);
    assert_eq!(store.throttle(&key, 3, later).await.unwrap(), None);
    assert!(store.throttle(&key, 3, later).await.unwrap().is_some());
    assert_eq!(store.throttle(&key, 0, later).await.unwrap(), None, "zero is no limit");
}

async fn run_contract(store: Arc<dyn HoldStore>) {
    capacity_release_expiry_and_isolation(store.as_ref()).await;
    retries_are_idempotent_and_renewals_extend(store.as_ref()).await;
    a_client_keeps_at_most_its_share(store.as_ref()).await;
    buckets_refill_at_their_rate(store.as_ref()).await;
    concurrent_acquisitions_respect_capacity(store).await;
}

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    run_contract(Arc::new(MemoryHolds::new())).await;
}

fn redis_url() -> Option<String> {
    let url = std::env::var("SPORTELLO_TEST_REDIS_URL").ok();
    if url.is_none() {
        assert!(std::env::var("CI").map_or(true, |ci| ci != "true"), "CI=true needs SPORTELLO_TEST_REDIS_URL");
        eprintln!("SKIPPED on Redis: SPORTELLO_TEST_REDIS_URL is not set");
    }
    url
}

fn test_prefix() -> String {
    format!("sportello-test-{}", Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_store_keeps_the_contract() {
    let Some(url) = redis_url() else { return };
    run_contract(Arc::new(RedisHolds::new(&url, &test_prefix()).unwrap())).await;
}

#[tokio::test]
async fn redis_outage_falls_back_to_this_process() {
    // Nothing listens on port 1: every Redis call fails fast.
    let store = RedisHolds::new("redis://127.0.0.1:1", &test_prefix()).unwrap();
    assert!(matches!(store.health().await, HoldHealth::Degraded(_)));
    let free = HashMap::from([(0, 1)]);
    let placed = hold(5, "o", &[0], now() + TimeDelta::minutes(10));
    assert_eq!(store.acquire(&placed, &free, None, now()).await.unwrap(), Acquired::Placed);
    assert_eq!(
        store.acquire(&hold(5, "o", &[0], now() + TimeDelta::minutes(10)), &free, None, now()).await.unwrap(),
        Acquired::Full
    );
    assert_eq!(store.get(TenantId::from_stored(5), placed.id).await.unwrap().map(|h| h.id), Some(placed.id));
    assert_eq!(store.live_counts(TenantId::from_stored(5), "o", &[0], now()).await.unwrap(), HashMap::from([(0, 1)]));
    assert!(store.release(TenantId::from_stored(5), placed.id).await.unwrap());
}
