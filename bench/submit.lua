-- wrk script: durable online submissions of 住民票の写し to 四街道市, each
-- with its own Idempotency-Key, so every request creates a case. The
-- resident is signed in with the My Number card (MDG_RESIDENT_COOKIE), so
-- each request also loads and decrypts the resident session.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  created = 0
  cookie = os.getenv("MDG_RESIDENT_COOKIE") or ""
  -- math.random is not seeded: two wrk processes started in the same
  -- second would make the same keys unless each is given its own
  -- MDG_KEY_PREFIX (bench/submit_servers.sh does).
  prefix = string.format("bench-%s%d-%d-%d-", os.getenv("MDG_KEY_PREFIX") or "", os.time(),
    math.random(1, 1000000000), tid)
  body = '{"answers":{"applicant":{"name":"山田 太郎","kana":"やまだ たろう"},' ..
         '"scope":"individual","copies":"1","purpose":"employment","delivery":"counter"}}'
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/api/v1/t/122289/procedures/juminhyo-copy/applications",
    { ["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. counter, ["Cookie"] = cookie }, body)
end

-- Every 201 is a case the server said is on disk; submit.sh holds the
-- database to exactly that count.
function response(status, headers, body)
  if status == 201 then
    created = created + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("created")
  end
  io.write(string.format("RESULT requests=%d created=%d errors_status=%d timeouts=%d p50_ms=%.2f p99_ms=%.2f rps=%.0f\n",
    summary.requests, total, summary.errors.status, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
