import { main } from "./src/cli/main.ts";
const code = await main(Deno.args);
const m = Deno.memoryUsage();
const hwm = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+)/)?.[1];
console.error(JSON.stringify({ end: m, hwmKB: hwm }));
Deno.exit(code);
