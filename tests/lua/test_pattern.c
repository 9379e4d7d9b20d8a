/*
** test_pattern.c — lua/pattern.c (the sandbox's find, match, gmatch and gsub) checked against
** Lua 5.4's own string library: every case runs through both in one plain state and every
** result and error message must be the same; then the step budget, in a sandboxed state.
*/
#include <check.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/pattern.h"
#include "lua/sandbox.h"
#include "test_run.h"

/*
** The harness, in Lua. It receives the stock string table and ours, and returns a function
** that runs one expression (written with `L` for the library) through both and describes a
** difference, or returns nil. Results are serialized exactly: strings with %q, numbers with
** their subtype, errors with their message.
*/
static const char harness[] =
    "local S, P = ...\n"
    "local function ser(v)\n"
    "  local t = type(v)\n"
    "  if t == 'string' then return string.format('%q', v)\n"
    "  elseif t == 'number' then return math.type(v) .. ':' .. string.format('%.17g', v)\n"
    "  elseif t == 'table' then\n"
    "    local parts = {}\n"
    "    for i = 1, (v.n or #v) do parts[#parts + 1] = ser(v[i]) end\n"
    "    return '{' .. table.concat(parts, ',') .. '}'\n"
    "  else return t .. (t == 'boolean' and ':' .. tostring(v) or '') end\n"
    "end\n"
    /* every call of a gmatch iterator until it gives nothing, as a list of packed results */
    "local function collect(it)\n"
    "  local out = {}\n"
    "  for _ = 1, 1000 do\n"
    "    local r = table.pack(it())\n"
    "    out[#out + 1] = r\n"
    "    if r[1] == nil then break end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local function run(chunk, lib)\n"
    "  local r = table.pack(pcall(chunk, lib, collect))\n"
    "  return ser(r)\n"
    "end\n"
    "return function(expr)\n"
    "  local chunk, err = load('local L, collect = ... return table.pack(' .. expr .. ')',\n"
    "                          '=case', 't')\n"
    "  if not chunk then return 'does not compile: ' .. expr .. ': ' .. err end\n"
    "  local stock, ours = run(chunk, S), run(chunk, P)\n"
    "  if stock ~= ours then\n"
    "    return expr .. '\\n  stock: ' .. stock .. '\\n  ours:  ' .. ours\n"
    "  end\n"
    "  return nil\n"
    "end\n";

/* Hand-written cases, one expression list per entry. */
static const char *const cases[] = {
    /* find: plain text, init, plain flag */
    "L.find('hello world', 'o w')",
    "L.find('hello world', 'o', 6)",
    "L.find('hello world', 'l')",
    "L.find('hello world', 'xyz')",
    "L.find('hello', '')",
    "L.find('hello', '', 5)",
    "L.find('hello', '', 6)",
    "L.find('hello', '', 7)",
    "L.find('hello', '', 100)",
    "L.find('hello', 'l', -2)",
    "L.find('hello', 'l', -100)",
    "L.find('hello', 'h', 0)",
    "L.find('hello', 'l', math.mininteger)",
    "L.find('hello', 'l', math.maxinteger)",
    "L.find('hello', '.', math.maxinteger)",
    "L.find('', '')",
    "L.find('', 'a')",
    "L.find('', '.')",
    "L.find('', '.-')",
    "L.find('', '', 2)",
    "L.find('a.b', '.', 1, true)",
    "L.find('a.b', '.', 3, true)",
    "L.find('a+b', '+', 1, true)",
    "L.find('a+b', 'a+', 1, true)",
    "L.find('a+b', 'a+b', 1, 1)",
    "L.find('a+b', 'a+b', 1, false)",
    "L.find('a+b', 'a+b', 1, nil)",
    "L.find('aaab', 'aab', 1, true)",
    "L.find('abababc', 'ababc')",
    "L.find('abc', 'abcd')",
    "L.find('abc', 'c', -1)",
    "L.find('a\\0b', '\\0')",
    "L.find('a\\0b', '%z')",
    "L.find('a\\0b', '[\\0]')",
    "L.find('a\\0b\\0c', 'b\\0c')",
    "L.find('a\\0.b', '\\0.')",
    "L.find('a\\0.b', 'b\\0.', 1, true)",
    "L.find(12345, 34)",
    "L.find('x1.5y', 1.5)",
    "L.find('hello', 'l', '3')",
    "L.find('hello', 'l', 2.0)",
    "L.find('hello', 'l', 2.5)",
    "L.find('hello', 'l', 'x')",
    "L.find()",
    "L.find('x')",
    "L.find({}, 'x')",
    "L.find('x', {})",
    "L.find('x', 'x', {})",
    "L.find('hello', '()ll()')",
    "L.find('hello', '(l)(l)')",
    "L.find('hello', '^l', 3)",
    "L.find('hello', '^l', 4)",
    "L.find('hello', '^h', 2)",
    "L.find('hello', '^', 6)",
    "L.find('hello', '$', 6)",
    "L.find('hello', 'o$', -1)",
    "L.find('hello', '%f[%a]')",
    "L.find('hello', '%f[%A]')",
    "L.find('hello', '%f[%A]', 6)",
    "L.find('THE (quick) fox', '%f[%a]%a+%f[%A]')",
    "L.find('THE (quick) fox', '%f[%a]%a+%f[%A]', 2)",
    "L.find('abcabc', '(%w+)%1')",
    "L.find('aaab', 'a-b')",
    "L.find('aaab', '.-b', 2)",
    /* match: classes, sets, quantifiers, anchors */
    "L.match('hello world', '%w+')",
    "L.match('hello world', '(%w+) (%w+)')",
    "L.match('key = value', '(%w+)%s*=%s*(%w+)')",
    "L.match('hello', '()ll()')",
    "L.match('hello', '(h)(e)(l)(l)(o)')",
    "L.match('hello', '')",
    "L.match('hello', '', 3)",
    "L.match('hello', '', 6)",
    "L.match('hello', '', 10)",
    "L.match('hello', '^(h)')",
    "L.match('hello', '^(e)')",
    "L.match('hello', 'o$')",
    "L.match('hello', 'l$')",
    "L.match('hello$', 'o$')",
    "L.match('hello$', 'o%$')",
    "L.match('a$b', '$b')",
    "L.match('a$b', 'a$b')",
    "L.match('a$', 'a$$')",
    "L.match('^a', '^^a')",
    "L.match('a^b', 'a^b')",
    "L.match('hello', '^$', 6)",
    "L.match('  trim  ', '^%s*(.-)%s*$')",
    "L.match('2024-01-15', '(%d+)-(%d+)-(%d+)')",
    "L.match('aaa', 'a-')",
    "L.match('aaa', 'a-$')",
    "L.match('aaa', 'a*')",
    "L.match('aaa', 'a+')",
    "L.match('aaa', 'a?')",
    "L.match('aaab', 'a-b')",
    "L.match('baaa', 'a*')",
    "L.match('baaa', 'a+')",
    "L.match('ab', 'a?b?c?')",
    "L.match('<a><b>', '<(.-)>')",
    "L.match('<a><b>', '<(.*)>')",
    "L.match('hello', '.-l')",
    "L.match('hello', '.*l')",
    "L.match('xyz', '[xyz]+')",
    "L.match('xyz', '[^xyz]+')",
    "L.match('x-z', '[a-]+')",
    "L.match('x-z]', '[]xz-]+')",
    "L.match('a]b', '[]]')",
    "L.match('a]b', '[^]]+')",
    "L.match('a^b', '[b^]+')",
    "L.match('a^b', '[^^]+')",
    "L.match('abc123', '[%a]+')",
    "L.match('abc123', '[%d]+')",
    "L.match('abc_123', '[%w_]+')",
    "L.match('a-b', '[a%-b]+')",
    "L.match('a%b', '[%%]')",
    "L.match('a]b', '[%]]')",
    "L.match('abc', '[a-c]+')",
    "L.match('abc', '[c-a]+')",
    "L.match('ABC', '[A-Z]+$')",
    "L.match('a-z', '[%a-]+')",
    "L.match('-az', '[-a]+')",
    "L.match('hello\\nworld', '[^\\n]+')",
    "L.match('tab\\there', '%s')",
    "L.match('\\1\\2\\3x', '%c+')",
    "L.match('a,b;c', '%p')",
    "L.match('aBc', '%u')",
    "L.match('aBc', '%l+')",
    "L.match('a1Fg', '%x+')",
    "L.match('\\200\\201abc', '[\\128-\\255]+')",
    "L.match('\\200\\201abc', '%a+')",
    "L.match('abc d', '%g+')",
    "L.match('a b', '%S+')",
    "L.match('abc123', '%D+')",
    "L.match('abc!', '%A')",
    "L.match('...x', '%W+')",
    "L.match('x', '%X')",
    "L.match('a b', '%G')",
    "L.match('a!b', '%P+')",
    "L.match('ab\\0', '%Z+')",
    "L.match('hello', '%q')",
    "L.match('hello', '%h')",
    "L.match('%', '%%')",
    "L.match('a.b', '%.')",
    "L.match('a.b', '%.(.)')",
    "L.match(3.5, '%d')",
    "L.match(1e100, '%d+')",
    "L.match(-7, '^%-')",
    /* balanced and frontier */
    "L.match('[[nested]]', '%[(%b[])%]')",
    "L.match('f(a(b)c)d', '%b()')",
    "L.match('f(a(b)c', '%b()')",
    "L.match('(', '%b()')",
    "L.match(')(', '%b()')",
    "L.match('\"quoted\" text \"x\"', '%b\"\"')",
    "L.match('if a if b end end', '%bie')",
    "L.match('abc', '%b')",
    "L.match('abc', '%bx')",
    "L.match('a(b)c', '%b()+')",
    "L.match('THE (quick) fox', '%f[%a]%a+')",
    "L.match('THE (quick) fox', '%f[%l]%a+')",
    "L.match('hello', '()%f[\\0]')",
    "L.match('hello', '()%f[%z]')",
    "L.match('hello', '%f[%Z]()')",
    "L.match('hello', '%f')",
    "L.match('hello', '%fx')",
    "L.match('hello', 'x%f')",
    "L.find('a', '%f[]')",
    "L.find('a', '%f[^]a]')",
    "L.find('aXb', '%f[%u]')",
    /* captures and back-references */
    "L.match('abc', '((a)(b))c')",
    "L.match('abc', '(a(b(c)))')",
    "L.match('abc', '(a)()(b)')",
    "L.match('hello', '(l)%1')",
    "L.match('hello', '(l+)%1')",
    "L.match('abab', '(ab)%1')",
    "L.match('abcabc', '^(.-)%1$')",
    "L.match('aa', '(a*)%1')",
    "L.match('', '(a*)%1')",
    "L.match('xyzz', '(x)(y)(z)%3')",
    "L.match('hello', '%0')",
    "L.match('hello', '(h)%2')",
    "L.match('hello', '(h%1)')",
    "L.match('hello', '()%1')",
    "L.match('hello', '(')",
    "L.match('hello', 'h(')",
    "L.match('hello', '(()')",
    "L.match('hello', ')')",
    "L.match('hello', 'x)')",
    "L.match('hello', 'h)')",
    "L.match('hello', '%')",
    "L.match('hello', 'x%')",
    "L.match('hello', 'h%')",
    "L.match('hello', '[a')",
    "L.match('hello', '[')",
    "L.match('hello', '[^')",
    "L.match('hello', '[]')",
    "L.match('hello', '[%')",
    "L.match('hello', '[%]')",
    "L.match('hello', string.rep('(', 33))",
    "L.match('hello', string.rep('()', 32))",
    "L.match('hello', string.rep('()', 33))",
    "L.match(string.rep('x', 50), string.rep('(x)', 30))",
    /* the nesting limit of Lua's matcher, exactly */
    "L.match(string.rep('a', 300), string.rep('a?', 199))",
    "L.match(string.rep('a', 300), string.rep('a?', 200))",
    "L.match(string.rep('a', 100), string.rep('a?', 300))",
    "L.find(string.rep('a', 300), string.rep('a*', 250))",
    "L.find(string.rep('a', 300), string.rep('a-', 199) .. '$')",
    "L.find(string.rep('a', 300), string.rep('a-', 200) .. '$')",
    "L.find(string.rep('a', 300), string.rep('a-', 250))",
    "L.find(string.rep('a', 300), string.rep('(a)', 99))",
    "L.find(string.rep('a', 300), string.rep('(a)', 100))",
    "L.find(string.rep('ab', 150), string.rep('a+b', 150))",
    "L.find(string.rep('ab', 150), string.rep('[a]+b', 210))",
    "L.find(string.rep('a', 1000), '(.-)$')",
    "L.match(string.rep('a', 100000), '.-$')",
    /* gmatch */
    "collect(L.gmatch('hello world from lua', '%a+'))",
    "collect(L.gmatch('k1=v1, k2=v2', '(%w+)=(%w+)'))",
    "collect(L.gmatch('abc', ''))",
    "collect(L.gmatch('abc', '.-'))",
    "collect(L.gmatch('abc', 'x*'))",
    "collect(L.gmatch('abc', '()'))",
    "collect(L.gmatch('hello', '^h'))",
    "collect(L.gmatch('^h^h', '^h'))",
    "collect(L.gmatch('abc', '.', 2))",
    "collect(L.gmatch('abc', '.', -1))",
    "collect(L.gmatch('abc', '.', -10))",
    "collect(L.gmatch('abc', '.', 4))",
    "collect(L.gmatch('abc', '', 4))",
    "collect(L.gmatch('abc', '', 5))",
    "collect(L.gmatch('abc', '', math.maxinteger))",
    "collect(L.gmatch('abc', '.', 0))",
    "collect(L.gmatch('a,b,,c', '([^,]*)'))",
    "collect(L.gmatch('one two', '%f[%w]%w+'))",
    "collect(L.gmatch('(a)(b(c))', '%b()'))",
    "collect(L.gmatch('aaa', 'a-'))",
    "collect(L.gmatch('aaa', 'a$'))",
    "collect(L.gmatch('a1b2', '%a(%d)'))",
    "collect(L.gmatch('a1b2', '()%d()'))",
    "collect(L.gmatch('', ''))",
    "collect(L.gmatch('', 'a'))",
    "collect(L.gmatch(123, '%d'))",
    "collect(L.gmatch('abc', '('))",
    "collect(L.gmatch('abc', '%'))",
    "collect(L.gmatch('abc', 'x%'))",
    "collect(L.gmatch('abc', '(%1)'))",
    "collect(L.gmatch(string.rep('a', 300), string.rep('a?', 200)))",
    "L.gmatch()",
    "L.gmatch('a')",
    "L.gmatch('a', 'a', 1.5)",
    /* gsub: string replacements */
    "L.gsub('hello world', 'o', '0')",
    "L.gsub('hello world', 'o', '0', 1)",
    "L.gsub('hello world', 'o', '0', 0)",
    "L.gsub('hello world', 'o', '0', -1)",
    "L.gsub('hello world', 'o', '0', 2.0)",
    "L.gsub('hello world', 'o', '0', 1.5)",
    "L.gsub('hello world', 'o', '0', '1')",
    "L.gsub('hello world', 'o', '0', math.maxinteger)",
    "L.gsub('hello world', 'o', '0', math.mininteger)",
    "L.gsub('abc', '', '-')",
    "L.gsub('abc', '', '-', 2)",
    "L.gsub('abc', '.-', '-')",
    "L.gsub('abc', 'x*', '-')",
    "L.gsub('abc', 'b*', '-')",
    "L.gsub('abc', 'a-', '-')",
    "L.gsub('', '', '-')",
    "L.gsub('', 'x', '-')",
    "L.gsub('abc', '^', '>')",
    "L.gsub('abc', '$', '<')",
    "L.gsub('abc', '^a', '')",
    "L.gsub('aaa', '^a', '')",
    "L.gsub('abc', '^', '>', 0)",
    "L.gsub('abc', '^$', '>')",
    "L.gsub('', '^$', '>')",
    "L.gsub('hello world', '(%w+)', '<%1>')",
    "L.gsub('hello world', '%w+', '<%0>')",
    "L.gsub('hello world', '%w+', '%1')",
    "L.gsub('hello world', '%w+', '%2')",
    "L.gsub('hello world', '(%w+) (%w+)', '%2 %1')",
    "L.gsub('hello', '', '%%')",
    "L.gsub('hello', 'l', '%')",
    "L.gsub('hello', 'l', 'a%')",
    "L.gsub('hello', 'l', '%x')",
    "L.gsub('hello', 'x', '%x')",
    "L.gsub('hello', '()', '%1')",
    "L.gsub('hello', 'l()', '[%1]')",
    "L.gsub('hello', '(l)(l)', '%2%1%0')",
    "L.gsub('abc', '%w', '%0%0')",
    "L.gsub('abc', '%w', 5)",
    "L.gsub('abc', '%w', 1.5)",
    "L.gsub(12345, '%d', 'x')",
    "L.gsub(12345, 'x', 'y')",
    "L.gsub('abc', 'b', nil)",
    "L.gsub('abc', 'b', true)",
    "L.gsub('abc', 'b')",
    "L.gsub('abc')",
    "L.gsub('abc', 'b', true, 1.5)",
    "L.gsub('a\\0b', '\\0', '0')",
    "L.gsub('a\\0b', '%z', 'Z')",
    "L.gsub('a\\0b', 'b', '%0\\0%0')",
    "L.gsub('x = 1, y = 2', '(%w+) = (%w+)', '%2 = %1')",
    "L.gsub('abc', '(', 'x')",
    "L.gsub('abc', '(', '%1')",
    "L.gsub('abc', '(', '%0')",
    "L.gsub('abc', '(', function(x) end)",
    "L.gsub('abc', '(', {})",
    "L.gsub('hello world', '%f[%w]', '|')",
    "L.gsub('f(x) + g(y)', '%b()', '[]')",
    "L.gsub(string.rep('ab', 100), 'ab', 'x')",
    "L.gsub('abc', '.', '%0', 2)",
    "L.gsub('hello', 'l+', '%0%0')",
    "L.gsub('abc', string.rep('a?', 200), '-')",
    /* gsub: tables and functions */
    "L.gsub('hello world', '%w+', {hello = 'HI', world = false})",
    "L.gsub('hello world', '%w+', {hello = 1, world = 2.5})",
    "L.gsub('hello world', '%w+', {})",
    "L.gsub('hello world', '%w+', {hello = {}})",
    "L.gsub('abc', '.', {a = 1, b = true})",
    "L.gsub('hello world', '(h)(e)', {h = 'H'})",
    "L.gsub('hello', '()l', {[3] = 'L'})",
    "L.gsub('hello', '%w', setmetatable({}, {__index = function(t, k) return k:upper() end}))",
    "L.gsub('hello world', '%w+', function(w) return w:upper() end)",
    "L.gsub('hello world', '%w+', function(w) return nil end)",
    "L.gsub('hello world', '%w+', function(w) return false end)",
    "L.gsub('hello world', '%w+', function(w) return 42 end)",
    "L.gsub('hello world', '%w+', function(w) return 0.5 end)",
    "L.gsub('hello world', '%w+', function(w) return true end)",
    "L.gsub('hello world', '%w+', function(w) return {} end)",
    "L.gsub('hello world', '(%w)(%w*)', function(a, b) return b .. a end)",
    "L.gsub('hello', '()', function(p) return p end)",
    "L.gsub('hello', '', function(...) return select('#', ...) end)",
    "L.gsub('hello', '(l)()', function(...) return select('#', ...) end)",
    "L.gsub('abc', '%w', function(c) return L.gsub(c, '.', '%0%0') end)",
    "L.gsub('a1b2', '%a', function(c) return (L.find('xaxb', c)) end)",
    "L.gsub('ab', '%w', function(c) return L.gsub('xyz', '%w', function(d) return c .. d end) end)",
    "L.gsub('abc', '%w', function(c) error('boom ' .. c) end)",
    "L.gsub('abc', '%w', function(c) error({}) end)",
    "L.gsub('abc', '%w', function(c) error() end)",
    "L.gsub('THE (quick) fox', '%f[%a]%a+', string.lower)",
    "L.gsub('abc', '%w', string.upper, 2)",
};

/*
** Random cases: subjects from a small alphabet (at most 12 characters) and patterns of a few
** items drawn from every feature, including malformed pieces, so that the stock matcher always
** finishes quickly. Takes the comparison function, a seed and a count; returns the number of
** expressions compared and the list of differences.
*/
static const char random_harness[] =
    "local compare, seed, count = ...\n"
    "math.randomseed(seed)\n"
    "local R = math.random\n"
    "local atoms = {'a', 'b', 'c', '.', '%a', '%d', '%s', '%W', '[ab]', '[^a]', '[a-c]',\n"
    "               '[%a_]', '%%', '%(', '%.', 'x', '%l', '[]a]', '[^%s]', '(', ')'}\n"
    "local quantifiers = {'', '', '', '*', '+', '-', '?'}\n"
    "local raw = 'ab()[]%^$.-*+?'\n"
    "local budget\n"
    "local sequence\n"
    "local function item(depth)\n"
    "  budget = budget - 1\n"
    "  if budget < 0 then return '' end\n"
    "  local r = R(20)\n"
    "  if r <= 11 then return atoms[R(#atoms)] .. quantifiers[R(#quantifiers)]\n"
    "  elseif r == 12 then return ({'%b()', '%bab', '%b((', '%b'})[R(4)]\n"
    "  elseif r == 13 then return ({'%f[%w]', '%f[a]', '%f[^a]', '%f[%W]', '%f'})[R(5)]\n"
    "  elseif r <= 15 and depth < 2 then return '(' .. sequence(depth + 1, R(0, 3)) .. ')'\n"
    "  elseif r == 16 then return '()'\n"
    "  elseif r == 17 then return '%' .. R(0, 3)\n"
    "  elseif r == 18 then return '$'\n"
    "  else local k = R(#raw) return raw:sub(k, k) end\n"
    "end\n"
    "sequence = function(depth, n)\n"
    "  local parts = {}\n"
    "  for i = 1, n do parts[i] = item(depth) end\n"
    "  return table.concat(parts)\n"
    "end\n"
    "local alphabet = {'a', 'a', 'b', 'b', 'c', '(', ')', ' ', '1', '_', '.', 'x'}\n"
    "local function subject()\n"
    "  local parts = {}\n"
    "  for i = 1, R(0, 12) do parts[i] = alphabet[R(#alphabet)] end\n"
    "  return table.concat(parts)\n"
    "end\n"
    "local replacements = {\"'%0'\", \"'<%1>'\", \"'%2'\", \"'x%%'\", \"'%'\", \"''\",\n"
    "  \"{a = 'A', b = false, ['1'] = 1}\",\n"
    "  \"function(...) return select('#', ...) end\",\n"
    "  \"function(x) if x == 'a' then return false end return '[' .. tostring(x) .. ']' end\"}\n"
    "local compared, differences = 0, {}\n"
    "for _ = 1, count do\n"
    "  budget = 7\n"
    "  local s = subject()\n"
    "  local p = (R(5) == 1 and '^' or '') .. sequence(0, R(1, 5)) .. (R(6) == 1 and '$' or '')\n"
    "  local init = R(-15, 15)\n"
    "  local expressions = {\n"
    "    string.format('L.find(%q, %q)', s, p),\n"
    "    string.format('L.find(%q, %q, %d)', s, p, init),\n"
    "    string.format('L.match(%q, %q, %d)', s, p, init),\n"
    "    string.format('collect(L.gmatch(%q, %q, %d))', s, p, init),\n"
    "    string.format('L.gsub(%q, %q, %s)', s, p, replacements[R(#replacements)]),\n"
    "    string.format('L.gsub(%q, %q, %s, %d)', s, p, replacements[R(#replacements)], R(0, 3)),\n"
    "  }\n"
    "  for _, e in ipairs(expressions) do\n"
    "    compared = compared + 1\n"
    "    local d = compare(e)\n"
    "    if d then differences[#differences + 1] = d end\n"
    "  end\n"
    "end\n"
    "return compared, differences\n";

enum { RANDOM_SEED = 20261125, RANDOM_PATTERNS = 3000, SHOWN_DIFFERENCES = 10 };

/* A plain state with the stock libraries; leaves the comparison function at index 1. */
static lua_State *new_differential_state(void)
{
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    luaL_openlibs(L);
    ck_assert_int_eq(luaL_loadbuffer(L, harness, sizeof harness - 1, "=harness"), LUA_OK);
    lua_getglobal(L, "string");
    lua_newtable(L);
    wd_pattern_register(L, -1);
    ck_assert_int_eq(lua_pcall(L, 2, 1, 0), LUA_OK);
    ck_assert_int_eq(lua_gettop(L), 1);
    return L;
}

/* Runs one expression through both libraries; the description of a difference, or NULL
** (the text stays valid while it is on the stack: the caller pops it). */
static const char *compare(lua_State *L, const char *expression)
{
    lua_pushvalue(L, 1);
    lua_pushstring(L, expression);
    ck_assert_int_eq(lua_pcall(L, 1, 1, 0), LUA_OK);
    return lua_tostring(L, -1);
}

START_TEST(hand_written_cases_agree_with_stock_lua)
{
    lua_State *L = new_differential_state();
    size_t     total = sizeof cases / sizeof cases[0];
    int        differences = 0;
    ck_assert_uint_ge(total, 150);
    for (size_t i = 0; i < total; i++) {
        const char *difference = compare(L, cases[i]);
        if (difference != NULL) {
            if (differences < SHOWN_DIFFERENCES)
                fprintf(stderr, "differs: %s\n", difference);
            differences++;
        }
        lua_pop(L, 1);
    }
    ck_assert_msg(differences == 0, "%d of %zu cases differ from stock Lua", differences, total);
    lua_close(L);
}
END_TEST

START_TEST(random_cases_agree_with_stock_lua)
{
    lua_State *L = new_differential_state();
    lua_Integer compared;
    lua_Integer differences;
    ck_assert_int_eq(luaL_loadbuffer(L, random_harness, sizeof random_harness - 1, "=random"),
                     LUA_OK);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, RANDOM_SEED);
    lua_pushinteger(L, RANDOM_PATTERNS);
    ck_assert_int_eq(lua_pcall(L, 3, 2, 0), LUA_OK);
    compared = lua_tointeger(L, -2);
    differences = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= differences && i <= SHOWN_DIFFERENCES; i++) {
        lua_rawgeti(L, -1, i);
        fprintf(stderr, "differs: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    ck_assert_int_eq(compared, 6 * RANDOM_PATTERNS);
    ck_assert_msg(differences == 0, "%lld of %lld random cases differ from stock Lua",
                  (long long)differences, (long long)compared);
    lua_close(L);
}
END_TEST

START_TEST(register_sets_the_four_functions_only)
{
    static const char *const names[] = { "find", "match", "gmatch", "gsub" };
    lua_State *L = luaL_newstate();
    lua_newtable(L);
    lua_pushinteger(L, 7);
    lua_setfield(L, 1, "len");
    lua_pushnil(L); /* a relative index that is not the top */
    wd_pattern_register(L, -2);
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_int_eq(lua_getfield(L, 1, names[i]), LUA_TFUNCTION);
        lua_pop(L, 1);
    }
    ck_assert_int_eq(lua_getfield(L, 1, "len"), LUA_TNUMBER);
    lua_pop(L, 1);
    lua_pushnil(L);
    int fields = 0;
    while (lua_next(L, 1) != 0) {
        fields++;
        lua_pop(L, 1);
    }
    ck_assert_int_eq(fields, 5);
    ck_assert_int_eq(lua_gettop(L), 1);
    lua_close(L);
}
END_TEST

/* Runs code in a plain state with our functions as global P; returns the top result as a
** string (the caller pops it) or fails the test on an error. */
static const char *run_plain(lua_State *L, const char *code)
{
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        ck_abort_msg("%s: %s", code, lua_tostring(L, -1));
    return lua_tostring(L, -1);
}

START_TEST(long_subjects_need_no_deep_c_stack)
{
    /* Lua's matcher recursion is bounded by the pattern; ours keeps one frame per pending
    ** alternative. Long subjects with many alternatives must work and give stock results. */
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    wd_pattern_register(L, -1);
    lua_setglobal(L, "P");
    ck_assert_str_eq(run_plain(L, "local s = string.rep('a', 1000000) .. 'b'\n"
                                  "local i, j = P.find(s, 'a-b') return i .. ',' .. j"),
                     "1,1000001");
    lua_pop(L, 1);
    ck_assert_str_eq(run_plain(L, "local s = string.rep('ab', 200000)\n"
                                  "local r, n = P.gsub(s, '(a)(b)', '%2%1')\n"
                                  "return tostring(r == string.rep('ba', 200000)) .. n"),
                     "true200000");
    lua_pop(L, 1);
    ck_assert_str_eq(run_plain(L, "local s = string.rep('x', 300000)\n"
                                  "local n = 0 for w in P.gmatch(s, 'x?') do n = n + 1 end\n"
                                  "return n"),
                     "300000");
    lua_pop(L, 1);
    lua_close(L);
}
END_TEST

/* ----- the budget: steps are charged to a sandboxed evaluation --------------------------- */

typedef struct evaluation {
    int    status;
    double seconds;
    char   error[256];
} evaluation;

/* Evaluates code in a new sandbox (1,000,000 instructions, a wall clock far away) with our
** functions as the global table `pat`. */
static evaluation evaluate_sandboxed(const char *code)
{
    wd_sandbox_limits limits = { .instructions = 1000000, .memory = 64u << 20, .time_ms = 60000 };
    evaluation        result = { 0 };
    struct timespec   start, end;
    lua_State        *L = wd_sandbox_new(&limits, NULL, NULL);
    int               env;
    ck_assert_ptr_nonnull(L);
    lua_newtable(L); /* extras */
    lua_newtable(L);
    wd_pattern_register(L, -1);
    lua_setfield(L, -2, "pat");
    wd_sandbox_push_env(L, lua_gettop(L));
    env = lua_gettop(L);
    ck_assert_msg(wd_sandbox_load(L, code, strlen(code), "=budget", env, result.error,
                                  sizeof result.error) == 0,
                  "%s", result.error);
    clock_gettime(CLOCK_MONOTONIC, &start);
    result.status = wd_sandbox_call(L, 0, 1, result.error, sizeof result.error);
    clock_gettime(CLOCK_MONOTONIC, &end);
    result.seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    if (result.status == WD_SANDBOX_OK) {
        snprintf(result.error, sizeof result.error, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
        lua_pop(L, 1);
    }
    wd_sandbox_close(L);
    return result;
}

START_TEST(a_pathological_pattern_ends_in_the_instruction_limit)
{
    /* Stock Lua spends about two minutes on each of these searches; no hook can stop it. The
    ** sandbox's own string table (and the string metatable) must carry our functions too. */
    static const char *const searches[] = {
        "return pat.find(string.rep('a', 800), string.rep('.-', 3) .. 'b')",
        "return string.find(string.rep('a', 800), string.rep('.-', 3) .. 'b')",
        "return ('a'):rep(800):match(('.-'):rep(3) .. 'b')",
        "return string.gsub(string.rep('a', 800), string.rep('.-', 3) .. 'b', '')",
        "for x in string.gmatch(string.rep('a', 800), string.rep('.-', 3) .. 'b') do end",
    };
    for (size_t i = 0; i < sizeof searches / sizeof searches[0]; i++) {
        evaluation e = evaluate_sandboxed(searches[i]);
        ck_assert_msg(e.status == WD_SANDBOX_INSTRUCTIONS, "%s: status %d: %s", searches[i],
                      e.status, e.error);
        ck_assert_msg(e.seconds < 2.0, "%s: took %.2f s", searches[i], e.seconds);
    }
}
END_TEST

START_TEST(pcall_does_not_hide_the_limit)
{
    evaluation e = evaluate_sandboxed(
        "local ok = pcall(pat.find, string.rep('a', 800), string.rep('.-', 3) .. 'b')\n"
        "return 'survived'");
    ck_assert_msg(e.status == WD_SANDBOX_INSTRUCTIONS, "status %d: %s", e.status, e.error);
}
END_TEST

START_TEST(many_cheap_searches_add_up)
{
    /* A few thousand VM instructions, but each search makes 10,000 steps or more. */
    static const char *const loops[] = {
        "local s = string.rep('a', 10000) for i = 1, 200 do pat.find(s, '%d') end return 'x'",
        "local s = string.rep('a', 10000) for i = 1, 200 do pat.match(s, 'b') end return 'x'",
        "local s = string.rep('a', 10000) for i = 1, 200 do pat.gsub(s, 'b', '') end return 'x'",
        "local s = string.rep('a', 10000) for i = 1, 200 do\n"
        "  for w in pat.gmatch(s, 'b') do end end return 'x'",
        "local s = string.rep('a', 1000000) for i = 1, 1000 do pat.find(s, 'b', 1, true) end\n"
        "return 'x'",
        "local s = string.rep('a', 100000) for i = 1, 200 do pat.find(s, 'aaab') end return 'x'",
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        evaluation e = evaluate_sandboxed(loops[i]);
        ck_assert_msg(e.status == WD_SANDBOX_INSTRUCTIONS, "%s: status %d: %s", loops[i],
                      e.status, e.error);
    }
}
END_TEST

START_TEST(ordinary_searches_fit_the_budget)
{
    evaluation e = evaluate_sandboxed(
        "local s = string.rep('key=value; ', 100)\n"
        "local n = 0 for k, v in pat.gmatch(s, '(%w+)=(%w+)') do n = n + 1 end\n"
        "local r = pat.gsub(s, '%s', '')\n"
        "return n .. ' ' .. #r .. ' ' .. pat.find(s, 'value', 500, true) .. ' '\n"
        "  .. pat.match(s, '^(%w+)')");
    ck_assert_msg(e.status == WD_SANDBOX_OK, "status %d: %s", e.status, e.error);
    ck_assert_str_eq(e.error, "100 1000 500 key");
}
END_TEST

static Suite *pattern_suite(void)
{
    Suite *suite = suite_create("pattern");
    TCase *differential = tcase_create("differential");
    TCase *budget = tcase_create("budget");
    tcase_set_timeout(differential, 240);
    tcase_add_test(differential, hand_written_cases_agree_with_stock_lua);
    tcase_add_test(differential, random_cases_agree_with_stock_lua);
    tcase_add_test(differential, register_sets_the_four_functions_only);
    tcase_add_test(differential, long_subjects_need_no_deep_c_stack);
    suite_add_tcase(suite, differential);
    tcase_set_timeout(budget, 60);
    tcase_add_test(budget, a_pathological_pattern_ends_in_the_instruction_limit);
    tcase_add_test(budget, pcall_does_not_hide_the_limit);
    tcase_add_test(budget, many_cheap_searches_add_up);
    tcase_add_test(budget, ordinary_searches_fit_the_budget);
    suite_add_tcase(suite, budget);
    return suite;
}

int main(void)
{
    return tr_run_suite(pattern_suite());
}
