//! Holds in Redis, shared by every instance.
//!
//! Per tenant and office two sorted sets hold one member `"<unit>:<hold id>"` per unit a hold
//! covers: `…:units` scored by the unit, `…:expiry` scored by the hold's expiry (ms). Each Lua
//! script first drops expired members, so counting is exact and atomic. The hold itself is a
//! JSON record with a TTL. All keys of a tenant share the hash tag `{t<id>}`, so they live in
//! one Redis Cluster slot and a script may touch them together.
//!
//! Redis is never the guarantee: when it fails, holds fall back to this process (logged once
//! per outage, reported by `/readyz`), and the database still decides capacity.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};
use uuid::Uuid;

use super::{Acquired, Hold, HoldHealth, HoldStore, HoldStoreError, MemoryHolds, OwnerDigest};
use crate::domain::slots::Unit;
use crate::domain::{Mode, Slug, TenantId};

/// How long after expiry a hold record is kept, so that a late confirmation can name its slot.
const RECORD_GRACE: TimeDelta = TimeDelta::hours(1);

const PURGE: &str = r"
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for i = 1, #expired, 1000 do
  local chunk = {unpack(expired, i, math.min(i + 999, #expired))}
  redis.call('ZREM', KEYS[2], unpack(chunk))
  redis.call('ZREM', KEYS[1], unpack(chunk))
end
";

/// KEYS: units, expiry, record, client. ARGV: now, expiry, id, record, record ttl (ms),
/// max holds per client (0: no limit), owner digest, then unit/free pairs. Returns 1 placed,
/// 0 full, 2 client limit, 3 the id is someone else's hold; 10 and 12 are 0 and 2 when the
/// owner still has a live hold under this id (which the caller then drops: it has no place). An
/// expired one is kept, so that a late confirmation can still name its slot.
const ACQUIRE: &str = r"
local earlier = redis.call('GET', KEYS[3])
if earlier and cjson.decode(earlier).owner ~= ARGV[7] then return 3 end
local live = redis.call('ZSCORE', KEYS[1], ARGV[8] .. ':' .. ARGV[3])
local function refused(code) if live then return code + 10 end return code end
for i = 8, #ARGV, 2 do
  local unit = ARGV[i]
  local taken = redis.call('ZCOUNT', KEYS[1], unit, unit)
  if redis.call('ZSCORE', KEYS[1], unit .. ':' .. ARGV[3]) then taken = taken - 1 end
  if taken >= tonumber(ARGV[i + 1]) then return refused(0) end
end
local max = tonumber(ARGV[6])
if max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
  local others = redis.call('ZCARD', KEYS[4])
  if redis.call('ZSCORE', KEYS[4], ARGV[3]) then others = others - 1 end
  if others >= max then return refused(2) end
end
for i = 8, #ARGV, 2 do
  local member = ARGV[i] .. ':' .. ARGV[3]
  redis.call('ZADD', KEYS[1], ARGV[i], member)
  redis.call('ZADD', KEYS[2], ARGV[2], member)
end
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[3])
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
for k = 1, 4 do if k ~= 3 then redis.call('PEXPIRE', KEYS[k], ARGV[5]) end end
return 1
";

/// KEYS: bucket. ARGV: now (ms), tokens per minute. Returns 0, or the seconds until a token is back.
const THROTTLE: &str = r"
local now, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local per_ms = capacity / 60000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.max(1, math.ceil((1 - tokens) / per_ms / 1000)) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], 600000)
return wait
";

/// KEYS: units, expiry. ARGV: now, then units. Returns the live holds of each unit, in order.
const LIVE: &str = r"
local counts = {}
for i = 2, #ARGV do counts[i - 1] = redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i]) end
return counts
";

/// KEYS: units, expiry, record, client. ARGV: id, then units.
const RELEASE: &str = r"
for i = 2, #ARGV do
  local member = ARGV[i] .. ':' .. ARGV[1]
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZREM', KEYS[2], member)
end
redis.call('ZREM', KEYS[4], ARGV[1])
return redis.call('DEL', KEYS[3])
";

pub struct RedisHolds {
    connection: ConnectionManager,
    prefix: String,
    acquire: Script,
    live: Script,
    release: Script,
    throttle: Script,
    /// Holds placed while Redis is unreachable.
    fallback: MemoryHolds,
    outage: AtomicBool,
}

/// The stored form of a hold.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    service: String,
    office: String,
    mode: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    units: Vec<Unit>,
    expires_at: DateTime<Utc>,
    client: Option<String>,
    owner: String,
}

impl RedisHolds {
    /// Connects lazily to `url`: Sportello starts, degraded, even while Redis is down.
    /// `prefix` namespaces every key (`sportello` in production; tests use their own).
    pub fn new(url: &str, prefix: &str) -> Result<Self, HoldStoreError> {
        let client = redis::Client::open(url).map_err(|e| HoldStoreError::Unavailable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| HoldStoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            acquire: Script::new(&format!("{PURGE}{ACQUIRE}")),
            live: Script::new(&format!("{PURGE}{LIVE}")),
            release: Script::new(RELEASE),
            throttle: Script::new(THROTTLE),
            fallback: MemoryHolds::new(),
            outage: AtomicBool::new(false),
        })
    }

    fn office_keys(&self, tenant: TenantId, office: &str) -> (String, String) {
        let base = format!("{}:{{t{}}}:office:{office}", self.prefix, tenant.get());
        (format!("{base}:units"), format!("{base}:expiry"))
    }

    fn record_key(&self, tenant: TenantId, id: Uuid) -> String {
        format!("{}:{{t{}}}:hold:{id}", self.prefix, tenant.get())
    }

    /// The set of a client's holds; holds without a client share an unused key.
    fn client_key(&self, tenant: TenantId, client: Option<&str>) -> String {
        format!("{}:{{t{}}}:client:{}", self.prefix, tenant.get(), client.unwrap_or("-"))
    }

    /// Notes the result of a Redis call: the first failure of an outage and the recovery are logged.
    fn observe<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.outage.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is reachable again; holds are shared again");
                }
                Some(value)
            }
            Err(error) => {
                if !self.outage.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "Redis is unreachable; holds fall back to this process until it returns");
                }
                None
            }
        }
    }

    /// Removes `hold` from Redis; `true` if its record was there.
    async fn drop_hold(&self, hold: &Hold) -> bool {
        let (units_key, expiry_key) = self.office_keys(hold.tenant, hold.office.as_str());
        let mut invocation = self.release.prepare_invoke();
        invocation
            .key(&units_key)
            .key(&expiry_key)
            .key(self.record_key(hold.tenant, hold.id))
            .key(self.client_key(hold.tenant, hold.client.as_deref()))
            .arg(hold.id.to_string());
        for unit in &hold.units {
            invocation.arg(*unit);
        }
        let mut connection = self.connection.clone();
        self.observe(invocation.invoke_async::<i64>(&mut connection).await) == Some(1)
    }

    async fn redis_get(&self, tenant: TenantId, id: Uuid) -> redis::RedisResult<Option<Hold>> {
        let mut connection = self.connection.clone();
        let json: Option<String> = connection.get(self.record_key(tenant, id)).await?;
        Ok(json.and_then(|j| serde_json::from_str::<Record>(&j).ok()).and_then(|r| r.into_hold(tenant, id)))
    }
}

impl Record {
    fn from_hold(hold: &Hold) -> Self {
        Self {
            service: hold.service.to_string(),
            office: hold.office.to_string(),
            mode: hold.mode.code().to_owned(),
            start: hold.start,
            end: hold.end,
            units: hold.units.clone(),
            expires_at: hold.expires_at,
            client: hold.client.clone(),
            owner: hold.owner.as_str().to_owned(),
        }
    }

    fn into_hold(self, tenant: TenantId, id: Uuid) -> Option<Hold> {
        Some(Hold {
            id,
            tenant,
            service: Slug::parse(&self.service).ok()?,
            office: Slug::parse(&self.office).ok()?,
            mode: Mode::parse(&self.mode)?,
            start: self.start,
            end: self.end,
            units: self.units,
            expires_at: self.expires_at,
            client: self.client,
            owner: OwnerDigest::from_stored(&self.owner)?,
        })
    }
}

#[async_trait]
impl HoldStore for RedisHolds {
    async fn acquire(
        &self,
        hold: &Hold,
        free: &HashMap<Unit, u32>,
        max_per_client: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Acquired, HoldStoreError> {
        let (units_key, expiry_key) = self.office_keys(hold.tenant, hold.office.as_str());
        let record =
            serde_json::to_string(&Record::from_hold(hold)).map_err(|e| HoldStoreError::Unavailable(e.to_string()))?;
        let ttl = (hold.expires_at + RECORD_GRACE - now).num_milliseconds().max(1);
        let mut invocation = self.acquire.prepare_invoke();
        invocation
            .key(&units_key)
            .key(&expiry_key)
            .key(self.record_key(hold.tenant, hold.id))
            .key(self.client_key(hold.tenant, hold.client.as_deref()))
            .arg(now.timestamp_millis())
            .arg(hold.expires_at.timestamp_millis())
            .arg(hold.id.to_string())
            .arg(record)
            .arg(ttl)
            .arg(if hold.client.is_some() { max_per_client.unwrap_or(0) } else { 0 })
            .arg(hold.owner.as_str());
        for unit in &hold.units {
            invocation.arg(*unit).arg(free.get(unit).copied().unwrap_or(0));
        }
        let mut connection = self.connection.clone();
        match self.observe(invocation.invoke_async::<i64>(&mut connection).await) {
            Some(1) => Ok(Acquired::Placed),
            Some(2) => Ok(Acquired::ClientLimit),
            Some(3) => Ok(Acquired::NotOwner),
            // A refused retry of a hold placed earlier (perhaps by an instance that died before
            // answering): its owner is told there is no place, so the place is not kept either.
            Some(refused @ (10 | 12)) => {
                self.release(hold.tenant, hold.id).await?;
                Ok(if refused == 12 { Acquired::ClientLimit } else { Acquired::Full })
            }
            Some(_) => Ok(Acquired::Full),
            None => self.fallback.acquire(hold, free, max_per_client, now).await,
        }
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<Hold>, HoldStoreError> {
        match self.observe(self.redis_get(tenant, id).await) {
            Some(Some(hold)) => Ok(Some(hold)),
            // Not in Redis: it may have been placed here during an outage.
            _ => self.fallback.get(tenant, id).await,
        }
    }

    async fn release(&self, tenant: TenantId, id: Uuid) -> Result<bool, HoldStoreError> {
        let local = self.fallback.release(tenant, id).await?;
        let Some(Some(hold)) = self.observe(self.redis_get(tenant, id).await) else { return Ok(local) };
        Ok(self.drop_hold(&hold).await || local)
    }

    async fn consume(&self, hold: &Hold) -> Result<(), HoldStoreError> {
        self.fallback.consume(hold).await?;
        self.drop_hold(hold).await;
        Ok(())
    }

    async fn live_counts(
        &self,
        tenant: TenantId,
        office: &str,
        units: &[Unit],
        now: DateTime<Utc>,
    ) -> Result<HashMap<Unit, u32>, HoldStoreError> {
        let (units_key, expiry_key) = self.office_keys(tenant, office);
        let mut connection = self.connection.clone();
        let mut invocation = self.live.prepare_invoke();
        invocation.key(&units_key).key(&expiry_key).arg(now.timestamp_millis());
        for unit in units {
            invocation.arg(*unit);
        }
        let result = invocation.invoke_async::<Vec<u32>>(&mut connection).await;
        let mut counts = self.fallback.live_counts(tenant, office, units, now).await?;
        for (unit, live) in units.iter().zip(self.observe(result).unwrap_or_default()).filter(|(_, n)| *n > 0) {
            *counts.entry(*unit).or_default() += live;
        }
        Ok(counts)
    }

    async fn throttle(&self, key: &str, per_minute: u32, now: DateTime<Utc>) -> Result<Option<u32>, HoldStoreError> {
        if per_minute == 0 {
            return Ok(None);
        }
        let mut connection = self.connection.clone();
        let result = self
            .throttle
            .key(format!("{}:rate:{key}", self.prefix))
            .arg(now.timestamp_millis())
            .arg(per_minute)
            .invoke_async::<u32>(&mut connection)
            .await;
        match self.observe(result) {
            Some(0) => Ok(None),
            Some(wait) => Ok(Some(wait)),
            None => self.fallback.throttle(key, per_minute, now).await,
        }
    }

    async fn health(&self) -> HoldHealth {
        let mut connection = self.connection.clone();
        let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut connection).await;
        match self.observe(pong) {
            Some(_) => HoldHealth::Ok,
            None => HoldHealth::Degraded("Redis unreachable: holds are local to this instance".into()),
        }
    }
}
