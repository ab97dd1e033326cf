// A bare socket.io server doing the fan-out benchmark's work: `join` puts the
// socket in one room, `broadcast` re-emits its payload to that room, both
// acknowledged; GET /api/health answers a small JSON body.
//   node server.mjs READY_FILE
import { createServer } from "node:http";
import { writeFileSync, renameSync } from "node:fs";
import { Server } from "socket.io";

const readyFile = process.argv[2];
const http = createServer((request, response) => {
  response.writeHead(200, { "Content-Type": "application/json" });
  response.end(JSON.stringify({ auth: "x".repeat(120) }));
});
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false });
io.on("connection", (socket) => {
  socket.on("join", (_payload, ack) => { socket.join("room"); ack({ ok: true }); });
  socket.on("echo", (payload, ack) => ack({ ok: true, payload }));
  socket.on("broadcast", (payload, ack) => { io.to("room").emit("message", payload); ack({ ok: true }); });
});
http.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${http.address().port}`;
  writeFileSync(`${readyFile}.tmp`, JSON.stringify({ url }));
  renameSync(`${readyFile}.tmp`, readyFile);
});
