-- bench/serve.lua — wrk script: each connection's thread posts the signed messages of
-- MESSAGES_DIR (0.xml ... N-1.xml), each once, thread k taking every THREADS-th one, and stops
-- when its share is used up, so no request is a replay. PATH_TO is the request path
-- (/v1/decide, or any path for the gateway).
local dir = os.getenv("MESSAGES_DIR")
local count = tonumber(os.getenv("MESSAGES_COUNT"))
local path = os.getenv("PATH_TO") or "/v1/decide"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  messages = {}
  local step = tonumber(os.getenv("WRK_THREADS") or "1")
  local i = id
  while i < count do
    local f = io.open(dir .. "/" .. i .. ".xml", "rb")
    messages[#messages + 1] = f:read("*a")
    f:close()
    i = i + step
  end
  next_message = 1
  headers = { ["Content-Type"] = "text/xml; charset=utf-8", ["SOAPAction"] = '"urn:example:orders/Create"' }
end

function request()
  local body = messages[next_message] or messages[#messages]
  next_message = next_message + 1
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if next_message > #messages then wrk.thread:stop() end -- the set is used up: no replays
end
