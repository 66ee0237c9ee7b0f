-- A 2 KiB JSON body for POST /api/echo.
local items = {}
for i = 1, 40 do
  items[#items + 1] = string.format('{"id": %d, "name": "item-%04d", "tags": ["a", "b", "c"]}', i, i)
end
wrk.method = "POST"
wrk.body = '{"items": [' .. table.concat(items, ", ") .. ']}'
wrk.headers["Content-Type"] = "application/json"
