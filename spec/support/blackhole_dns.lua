-- A DNS server that never answers: it takes every query sent to 127.0.0.1:53 and drops it,
-- for SECONDS seconds (default 30), then exits. Runs under LuaJIT (its FFI gives the UDP
-- socket), inside a private network namespace where binding port 53 needs no privilege:
--   luajit spec/support/blackhole_dns.lua [SECONDS]
-- Prints "ready" once it listens.
local ffi = require "ffi"

ffi.cdef [[
  typedef struct { uint16_t family; uint16_t port; uint32_t addr; char zero[8]; } bh_sockaddr_in;
  int socket(int domain, int type, int protocol);
  int bind(int fd, const void *addr, unsigned int len);
  long recv(int fd, void *buf, unsigned long len, int flags);
  int poll(void *fds, unsigned long n, int timeout);
]]

local AF_INET, SOCK_DGRAM, MSG_DONTWAIT = 2, 2, 0x40
local seconds = tonumber(arg[1]) or 30

local fd = ffi.C.socket(AF_INET, SOCK_DGRAM, 0)
assert(fd >= 0, "socket")
local sa = ffi.new("bh_sockaddr_in")
sa.family = AF_INET
sa.port = 0x3500       -- 53, in network byte order
sa.addr = 0x0100007f   -- 127.0.0.1, in network byte order
assert(ffi.C.bind(fd, sa, ffi.sizeof(sa)) == 0, "bind 127.0.0.1:53")
io.stdout:write("ready\n")
io.stdout:flush()

local buf = ffi.new("char[512]")
local started = os.time()
while os.time() - started < seconds do
  ffi.C.recv(fd, buf, 512, MSG_DONTWAIT) -- read and forget
  ffi.C.poll(nil, 0, 20)
end
