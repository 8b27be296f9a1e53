//! The Lua scripts that make each session operation one atomic round trip. Key names follow
//! the layout in the parent module: `P s:` session, `P l:` lease, `P t:` tombstone, `P n:`
//! a number's live dialogues (named by a digest of the number), `P deadlines`.

/// Claims the lease `KEYS[1]` with token `ARGV[1]` for `ARGV[2]` ms, then returns what is
/// known of the dialogue: `{0, ''}` when another hop holds it, `{1, session}`, `{2, tombstone}`,
/// or `{3, live dialogues of the number}` after dropping the number's dialogues whose deadline
/// (score) is at or before `ARGV[3]`.
/// KEYS: lease, session, tombstone, number set.
pub const BEGIN_HOP: &str = r#"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0, ''} end
local json = redis.call('GET', KEYS[2])
if json then return {1, json} end
local tomb = redis.call('GET', KEYS[3])
if tomb then return {2, tomb} end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[3])
return {3, tostring(redis.call('ZCARD', KEYS[4]))}
"#;

/// If the lease still holds token `ARGV[1]`: stores the session `ARGV[2]` for `ARGV[3]` ms,
/// scores member `ARGV[5]` at deadline `ARGV[4]` in the deadline set (and, on a new
/// dialogue's first save, in its number's set), releases the lease and returns 1; else 0 and
/// nothing changes. A number's set keeps the first deadline only: it counts dialogues for a
/// soft limit, and one write per dialogue keeps every later hop cheaper.
/// KEYS: lease, session, deadlines, number set.
pub const SAVE_HOP: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local new = redis.call('EXISTS', KEYS[2]) == 0
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
if new then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
end
redis.call('DEL', KEYS[1])
return 1
"#;

/// If the lease still holds token `ARGV[1]`: removes the session of member `ARGV[2]` from
/// every set, leaves the tombstone `ARGV[3]` for `ARGV[4]` ms, releases the lease and
/// returns 1; else 0 and nothing changes.
/// KEYS: lease, session, deadlines, number set, tombstone.
pub const END_HOP: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ARGV[4])
redis.call('DEL', KEYS[1])
return 1
"#;

/// Deletes the lease `KEYS[1]` if it still holds token `ARGV[1]`.
pub const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Removes the session `KEYS[1]` (member `ARGV[1]` of the deadline set `KEYS[2]`), returning
/// its JSON or false. Its entry in its number's set goes when its deadline passes.
pub const REMOVE: &str = r#"
local json = redis.call('GET', KEYS[1])
if not json then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return json
"#;

/// Claims up to `ARGV[2]` members of the deadline set `KEYS[1]` scored at or below
/// `ARGV[1]`, removing each member and its session key (`ARGV[3]` + `s:` + member), leaving
/// a tombstone for `ARGV[4]` ms, and returns the sessions' JSON. (Their number-set entries
/// are past their deadline, so counting drops them.) A member whose lease is held is scored
/// `ARGV[5]` ms later instead (its hop decides). A member whose key has vanished (TTL safety
/// net) is dropped and does not count against the limit. An unreadable session leaves no
/// tombstone but is still returned, so that one bad session cannot stop the claim half-way
/// (a script is not rolled back). Running as a script makes the claim atomic across nodes.
pub const TAKE_EXPIRED: &str = r#"
local taken = {}
local limit = tonumber(ARGV[2])
local p = ARGV[3]
while #taken < limit do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, limit - #taken)
  if #due == 0 then break end
  for _, member in ipairs(due) do
    if redis.call('EXISTS', p .. 'l:' .. member) == 1 then
      redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[5]), member)
    else
      redis.call('ZREM', KEYS[1], member)
      local key = p .. 's:' .. member
      local json = redis.call('GET', key)
      if json then
        redis.call('DEL', key)
        local ok, s = pcall(cjson.decode, json)
        if ok and type(s) == 'table' and type(s.msisdn) == 'string' then
          local tomb = cjson.encode({msisdn = s.msisdn, consumed = s.consumed, last = s.last, expired = true})
          redis.call('SET', p .. 't:' .. member, tomb, 'PX', ARGV[4])
        end
        taken[#taken + 1] = json
      end
    end
  end
end
return taken
"#;
