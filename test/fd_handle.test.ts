import assert from "node:assert/strict";
import { it } from "node:test";
import { withFds } from "../mod.ts";
import { createFdHandle } from "../src/base/fd_handle.ts";

it("an FdHandle closes once, and refuses to hand out its number after close or take", () => {
  const closed: number[] = [];
  const handle = createFdHandle(42, (fd) => closed.push(fd));
  assert.equal(handle.fd, 42);
  handle.close();
  handle[Symbol.dispose]();
  assert.deepEqual(closed, [42]);
  assert.equal(handle.closed, true);
  assert.throws(() => handle.fd, { code: "ERR_CLOSED" });
  assert.throws(() => handle.take(), { code: "ERR_CLOSED" });
  assert.throws(() => withFds("x", [handle]), { code: "ERR_CLOSED" });

  const taken = createFdHandle(7, (fd) => closed.push(fd));
  assert.equal(taken.take(), 7);
  taken.close();
  assert.deepEqual(closed, [42], "a taken descriptor is the caller's to close");
  assert.throws(() => taken.take(), { code: "ERR_CLOSED" });
});
