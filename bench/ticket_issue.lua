-- wrk script: tickets (整理券) issued at counter 2 of 四街道市.
function request()
  return wrk.format("POST", "/api/v1/t/122289/counter/tickets",
    { ["Content-Type"] = "application/json" }, '{"counter":"c2"}')
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f rps=%.0f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
