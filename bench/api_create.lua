-- wrk script for bench/api_create.py (kefu ticket API). LuaJIT; one Lua state per wrk thread.
--
--   wrk -t1 -c32 -d20s --timeout 10s -s bench/api_create.lua http://127.0.0.1:P/api/v1/tickets \
--       -- create TOKEN RUN_ID [REPEAT_PCT]
--   wrk -t1 -c4 -d5s -s bench/api_create.lua http://127.0.0.1:P -- get TOKEN /api/v1/tickets?limit=50
--
-- create: every request is a unique, realistic POST body. A customer is named by a valid mainland
-- mobile number in one of several input formats; REPEAT_PCT percent of requests (default 30) reuse the
-- number of an earlier request of the same run in another format (a repeat customer), the rest are
-- new numbers. done() prints one line "BENCH_RESULT {json}" that bench/api_create.py parses.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- mobile prefixes phonenumbers accepts as valid for CN (checked against phonenumbers 9.0)
local PREFIXES = {
   130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153, 155, 156, 157, 158,
   159, 162, 165, 166, 167, 170, 171, 172, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186,
   187, 188, 189, 190, 191, 192, 193, 195, 196, 197, 198, 199,
}
local SURNAMES = { "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高" }
local GIVEN = { "三", "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "建国", "桂兰", "志强", "晓燕", "海波" }
local CASES = {
   { "制氧机噪音大", "complaint", "制氧机开机后噪音很大，晚上影响睡眠，机器才买了两周。" },
   { "制氧机流量不稳定", "repair", "制氧机流量在1到3升之间来回跳，报警灯一直闪。" },
   { "血压计显示错误", "defect", "血压计测量时显示E3错误代码，换了新电池也一样。" },
   { "快递破损", "complaint", "收到的包裹外箱破损，雾化器外壳有裂痕，要求换货。" },
   { "申请退货", "return_refund", "买错型号了，未拆封，想申请七天无理由退货。" },
   { "发票怎么开", "inquiry", "请问下单后怎么开具增值税专用发票？公司需要报销。" },
   { "安装预约", "repair", "新买的净水器需要上门安装，希望周末上午可以来。" },
   { "客服态度差", "complaint", "昨天打热线等了二十分钟，接通后客服态度敷衍，问题也没解决。" },
}
local CHANNELS = { "phone", "phone", "phone", "email", "web", "wechat" }

local function digits_fullwidth(s)
   return (s:gsub("%d", function(d) return string.char(0xEF, 0xBC, 0x90 + tonumber(d)) end))
end

-- the same number in the formats people type it
local function format_phone(d, style)
   local a, b, c = d:sub(1, 3), d:sub(4, 7), d:sub(8, 11)
   if style == 1 then return a .. " " .. b .. " " .. c
   elseif style == 2 then return d
   elseif style == 3 then return "+86 " .. a .. "-" .. b .. "-" .. c
   elseif style == 4 then return "0086 " .. a .. " " .. b .. " " .. c
   elseif style == 5 then return a .. "-" .. b .. "-" .. c
   elseif style == 6 then return "+86" .. d
   elseif style == 7 then return "(+86) " .. a .. " " .. b .. " " .. c
   else return digits_fullwidth(a .. " " .. b .. " " .. c)
   end
end

local STYLE_WEIGHTS = { 1, 1, 1, 2, 2, 2, 3, 4, 5, 5, 6, 7, 8 }

-- n (unique per request) -> 11 digits; the low 8 digits are scrambled by a bijection mod 1e8 so
-- numbers are spread over the index like real ones.
local function phone_digits(n)
   local p = PREFIXES[(math.floor(n / 1e8) % #PREFIXES) + 1]
   local low = ((n % 1e8) * 12345679 + 4711) % 1e8
   return string.format("%03d%08d", p, low)
end

local function json_escape(s)
   return (s:gsub('[%c"\\]', function(ch) return string.format("\\u%04x", ch:byte()) end))
end

function init(args)
   mode = args[1]
   local token = args[2]
   wrk.headers["Authorization"] = "Bearer " .. token
   non2xx, c4xx, c5xx, first_status, sample = 0, 0, 0, 0, ""
   n_new, n_repeat = 0, 0
   if mode == "create" then
      run_id = tonumber(args[3])
      repeat_pct = tonumber(args[4] or "30")
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      issued = {}
      math.randomseed(run_id * 7919 + tid * 104729 + os.time())
   else
      get_request = wrk.format("GET", args[3])
   end
end

local function create_body()
   local digits
   local count = #issued
   if count > 64 and math.random(100) <= repeat_pct then
      -- a repeat customer: a number issued at least 64 requests ago (committed: at most 32 in flight)
      digits = issued[math.random(1, count - 64)]
      n_repeat = n_repeat + 1
   else
      local n = (run_id * 1e6 + count) * 64 + tid -- unique across threads and runs of one database
      digits = phone_digits(n)
      issued[count + 1] = digits
      n_new = n_new + 1
   end
   local phone = format_phone(digits, STYLE_WEIGHTS[math.random(#STYLE_WEIGHTS)])
   local case = CASES[math.random(#CASES)]
   local name = SURNAMES[math.random(#SURNAMES)] .. GIVEN[math.random(#GIVEN)]
   local order = string.format("订单号 %d%06d", 2026000000 + run_id * 1000 + tid, n_new + n_repeat)
   return '{"subject":"' .. case[1] .. '","description":"' .. case[3] .. order .. '","type":"' .. case[2]
      .. '","channel":"' .. CHANNELS[math.random(#CHANNELS)] .. '","customer":{"name":"' .. name
      .. '","phone":"' .. phone .. '"}}'
end

function request()
   if mode == "create" then
      return wrk.format(nil, nil, nil, create_body())
   end
   return get_request
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if status >= 500 then c5xx = c5xx + 1 elseif status >= 400 then c4xx = c4xx + 1 end
      if first_status == 0 then
         first_status = status
         sample = (body or ""):sub(1, 300)
      end
   end
end

function done(summary, latency, requests)
   local t = { non2xx = 0, c4xx = 0, c5xx = 0, n_new = 0, n_repeat = 0 }
   local first, smp = 0, ""
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
      if first == 0 and (thread:get("first_status") or 0) ~= 0 then
         first, smp = thread:get("first_status"), thread:get("sample")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
         .. '"non2xx":%d,"c4xx":%d,"c5xx":%d,"n_new":%d,"n_repeat":%d,"first_status":%d,"sample":"%s",'
         .. '"lat_mean":%.1f,"lat_max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      t.non2xx, t.c4xx, t.c5xx, t.n_new, t.n_repeat, first, json_escape(smp),
      latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency:percentile(99.9)))
end
