// An independent client that knows only the protocol: the official
// socket.io-client and fetch. It walks through everything the protocol page
// describes and prints one JSON line of findings for the Python test to check.
//
//   node peer.mjs URL ALICE_TOKEN BOB_TOKEN CAROL_TOKEN
import { io } from "socket.io-client";

const [url, aliceToken, bobToken, carolToken] = process.argv.slice(2);
const findings = {};

function connect(token) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => { socket.close(); reject(error); });
  });
}

function call(socket, event, payload) {
  return socket.timeout(10000).emitWithAck(event, payload);
}

async function http(method, path, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url + path, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

function nextEvent(socket, name, predicate = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name}`)), 10000);
    const handler = (payload) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(name, handler);
      resolve(payload);
    };
    socket.on(name, handler);
  });
}

async function auth(token, chatId) {
  return (await http("POST", "/api/message-auth", token, { chat_id: chatId })).body.auth;
}

try {
  await connect("no-such-token");
  findings.bad_token = "accepted";
} catch (error) {
  findings.bad_token = error.data && error.data.code;
}

const health = (await http("GET", "/api/health")).body;
findings.health = health.status;
findings.protocol = health.protocol;
findings.me = (await http("GET", "/api/me", aliceToken)).body.id;
findings.chats = (await http("GET", "/api/chats", aliceToken)).body.chats.map((c) => c.id).sort();

const alice = await connect(aliceToken);
const bob = await connect(bobToken);
const carol = await connect(carolToken);

const joined = await call(alice, "join", { chat_id: "general" });
findings.join_ok = joined.ok && joined.chat.id === "general";
await call(bob, "join", { chat_id: "general" });
findings.forbidden = (await call(carol, "join", { chat_id: "general" })).error.code;
findings.not_found = (await call(alice, "join", { chat_id: "nowhere" })).error.code;
findings.not_joined = (await call(carol, "send_message", {
  chat_id: "staff-room", text: "x", auth: await auth(carolToken, "staff-room"), client_id: "n1",
})).error.code;

const bobSees = nextEvent(bob, "message", (m) => m.text === "hello from node");
const clientId = `node-${Date.now()}`;
const firstAuth = await auth(aliceToken, "general");
const sent = await call(alice, "send_message", {
  chat_id: "general", text: "hello from node", auth: firstAuth, client_id: clientId,
});
findings.sent_seq = sent.message.seq;
findings.bob_received = (await bobSees).id === sent.message.id;
findings.reused = (await call(alice, "send_message", {
  chat_id: "general", text: "again", auth: firstAuth, client_id: `${clientId}-2`,
})).error.code;
const retry = await call(alice, "send_message", {
  chat_id: "general", text: "hello from node", auth: await auth(aliceToken, "general"),
  client_id: clientId,
});
findings.retry_same_id = retry.message.id === sent.message.id;
findings.invalid_auth = (await call(alice, "send_message", {
  chat_id: "general", text: "x", auth: "forged", client_id: "f1",
})).error.code;
findings.too_large = (await call(alice, "send_message", {
  chat_id: "general", text: "x".repeat(70000), auth: await auth(aliceToken, "general"),
  client_id: "big",
})).error.code;

const history = await call(alice, "history", { chat_id: "general", after_seq: sent.message.seq - 1 });
findings.history_first = history.messages[0].id === sent.message.id;
const page = await http("GET", `/api/chats/general/messages?after_seq=${sent.message.seq - 1}`, bobToken);
findings.http_history_first = page.body.messages[0].id === sent.message.id;

await call(alice, "join", { chat_id: "echo" });
const echoed = await call(alice, "send_message", {
  chat_id: "echo", text: "echo me", auth: await auth(aliceToken, "echo"), client_id: `e-${Date.now()}`,
});
const answer = await nextEvent(alice, "message", (m) => m.reply_to === echoed.message.id);
findings.echo = answer.text === "echo me" && answer.sender.kind === "bot";

// Protocol 1.1: edit, react, delete, and catching up on changes.
const target = sent.message.id;
const bobSeesEdit = nextEvent(bob, "message_updated", (m) => m.id === target);
const edited = await call(alice, "edit_message", {
  chat_id: "general", id: target, text: "hello, edited", auth: await auth(aliceToken, "general"),
});
findings.edit = [edited.message.text, edited.message.version, typeof edited.message.edited_at];
findings.bob_saw_edit = (await bobSeesEdit).version === edited.message.version;
findings.edit_forbidden = (await call(bob, "edit_message", {
  chat_id: "general", id: target, text: "not mine", auth: await auth(bobToken, "general"),
})).error.code;
findings.edit_not_found = (await call(alice, "edit_message", {
  chat_id: "general", id: "nope", text: "x", auth: await auth(aliceToken, "general"),
})).error.code;
const reacted = await call(bob, "react", { chat_id: "general", id: target, emoji: "👍", on: true });
findings.reactions = reacted.message.reactions;
findings.bad_emoji = (await call(bob, "react", {
  chat_id: "general", id: target, emoji: "two words", on: true,
})).error.code;
const deleted = await call(alice, "delete_message", { chat_id: "general", id: target });
findings.tombstone = [deleted.message.deleted, deleted.message.text, deleted.message.version,
  deleted.message.reactions.length];
findings.react_tombstone = (await call(bob, "react", {
  chat_id: "general", id: target, emoji: "🎉", on: true,
})).error.code;
const changes = await call(bob, "changes", { chat_id: "general", after_version: 0 });
findings.changes = changes.messages.map((m) => [m.id === target, m.version]).concat([changes.has_more]);
const rejoined = await call(bob, "join", { chat_id: "general", after_version: 1 });
findings.chat_fields = Object.keys(rejoined.chat).sort();
findings.join_updated = [rejoined.updated.length, rejoined.has_more_updates, rejoined.chat.last_version];
const httpChanges = await http("GET", "/api/chats/general/changes?after_version=0&limit=1", bobToken);
findings.http_changes = [httpChanges.body.messages[0].version, httpChanges.body.has_more];

// Protocol 1.1: who is here, who is typing, what was read.
const aliceSeesBobLeave = nextEvent(alice, "presence", (p) => p.chat_id === "general" && p.users.length === 1);
await call(bob, "leave", { chat_id: "general" });
findings.presence_after_leave = (await aliceSeesBobLeave).users.map((u) => u.id);
const bobSeesOwnJoin = nextEvent(bob, "presence", (p) => p.chat_id === "general");
findings.present = (await call(bob, "join", { chat_id: "general" })).present.map((u) => u.id);
findings.presence_on_join = (await bobSeesOwnJoin).users.map((u) => u.id);
const aliceSeesTyping = nextEvent(alice, "typing", (t) => t.chat_id === "general" && t.typing);
findings.typing_ack = await call(bob, "typing", { chat_id: "general", typing: true });
const typing = await aliceSeesTyping;
findings.typing = [typing.user.id, typing.user.kind, typing.typing];
const aliceSeesTypingStop = nextEvent(alice, "typing", (t) => t.chat_id === "general" && !t.typing);
await call(bob, "typing", { chat_id: "general", typing: false });
findings.typing_stop = (await aliceSeesTypingStop).user.id;
findings.typing_not_joined = (await call(carol, "typing", { chat_id: "staff-room", typing: true })).error.code;

const bobHearsEcho = (seq) => nextEvent(bob, "chat_activity", (a) => a.chat_id === "echo" && a.last_seq === seq);
const mention = await call(alice, "send_message", {
  chat_id: "echo", text: "@bob news", auth: await auth(aliceToken, "echo"), client_id: `m-${Date.now()}`,
});
const answered = mention.message.seq + 1; // the bot's echo follows (and names bob too)
const activity = await bobHearsEcho(answered);
findings.activity = [Object.keys(activity).sort(), activity.unread, activity.unread_mentions];
await call(bob, "join", { chat_id: "echo" });
const aliceSeesRead = nextEvent(alice, "read", (r) => r.chat_id === "echo");
const bobActivityAfterRead = nextEvent(bob, "chat_activity", (a) => a.chat_id === "echo" && a.unread === 0);
findings.mark_read = (await call(bob, "mark_read", { chat_id: "echo", seq: answered })).last_read_seq === answered;
const read = await aliceSeesRead;
findings.read = [read.user_id, read.last_read_seq === answered];
const afterRead = await bobActivityAfterRead;
findings.activity_after_read = [afterRead.unread_mentions, afterRead.last_seq === answered];
findings.mark_read_back = (await call(bob, "mark_read", { chat_id: "echo", seq: 1 })).last_read_seq === answered;
findings.mark_read_beyond = (await call(bob, "mark_read", { chat_id: "echo", seq: answered + 1 })).error.code;
findings.members = (await http("GET", "/api/chats/echo/members", bobToken)).body.members.map((m) => `${m.kind}:${m.id}`);

findings.left = (await call(bob, "leave", { chat_id: "general" })).ok;

// Away and back: changes made while bob had no connection reach his next one through
// join's after_version, each changed message once at its latest version; `changes`
// pages through the same with limit and has_more.
const seenVersion = rejoined.chat.last_version;
const seenSeq = rejoined.chat.last_seq;
bob.close();
const sendText = async (text) => (await call(alice, "send_message", {
  chat_id: "general", text, auth: await auth(aliceToken, "general"), client_id: `${text}-${Date.now()}`,
})).message;
const editText = async (id, text) => (await call(alice, "edit_message", {
  chat_id: "general", id, text, auth: await auth(aliceToken, "general"),
})).message;
const one = await sendText("one");
const two = await sendText("two");
await editText(one.id, "one, edited");
await editText(two.id, "two, edited");
await editText(one.id, "one, edited twice");
const back = await connect(bobToken);
const caughtUp = await call(back, "join", {
  chat_id: "general", after_seq: seenSeq, after_version: seenVersion,
});
findings.away_messages = caughtUp.messages.map((m) => [m.seq - seenSeq, m.text]);
findings.away_updated = caughtUp.updated.map((m) => [m.text, m.version - seenVersion])
  .concat([caughtUp.has_more_updates]);
const paged = [];
for (let after = seenVersion, more = true; more;) {
  const page = await call(back, "changes", { chat_id: "general", after_version: after, limit: 1 });
  paged.push([page.messages.map((m) => m.version - seenVersion), page.has_more]);
  more = page.has_more;
  after = page.messages.at(-1).version;
}
findings.away_paged = paged;
const liveAfter = nextEvent(back, "message_updated", (m) => m.id === two.id);
const reactedLive = await call(alice, "react", { chat_id: "general", id: two.id, emoji: "👀", on: true });
findings.away_live = (await liveAfter).version === reactedLive.message.version;

// Protocol 1.1: files and search, with fetch alone.
const bytes = new Uint8Array(300000).map((_, i) => (i * 7) % 251);
const uploaded = await fetch(`${url}/api/chats/general/files?name=${encodeURIComponent("data é.bin")}`, {
  method: "POST", body: bytes,
  headers: { Authorization: `Bearer ${aliceToken}`, "Content-Type": "application/x-peer" },
});
const file = (await uploaded.json()).file;
findings.upload = [uploaded.status, file.name, file.size, file.mime, /^[0-9a-f]{64}$/.test(file.sha256)];
const withFile = await call(alice, "send_message", {
  chat_id: "general", text: "see peerfile attached", auth: await auth(aliceToken, "general"),
  client_id: `file-${Date.now()}`, parts: [{ type: "file", file_id: file.id, name: file.name,
    mime: file.mime, size: file.size }],
});
findings.file_part = withFile.message.parts.map((p) => [p.type, p.file_id === file.id]);
const sameBytes = (response, body) => response.status === 200 && body.length === bytes.length
  && body.every((b, i) => b === bytes[i]);
const direct = await fetch(`${url}/api/files/${file.id}`, { headers: { Authorization: `Bearer ${bobToken}` } });
findings.download = [sameBytes(direct, new Uint8Array(await direct.arrayBuffer())),
  direct.headers.get("x-content-type-options"), direct.headers.get("content-disposition").startsWith("attachment")];
const link = (await http("POST", `/api/files/${file.id}/link`, bobToken)).body;
const viaLink = await fetch(link.url);
findings.link = [sameBytes(viaLink, new Uint8Array(await viaLink.arrayBuffer())),
  link.expires_at > Date.now() / 1000, link.expires_at <= Date.now() / 1000 + 300];
const signed = new URL(link.url);
const signature = signed.searchParams.get("sig");
signed.searchParams.set("sig", (signature[0] === "X" ? "Y" : "X") + signature.slice(1));
const tampered = await fetch(signed);
findings.tampered_link = [tampered.status, (await tampered.json()).error.code];
const found = (await http("GET", "/api/search?q=PEERFILE%20see", bobToken)).body.messages;
findings.search = found.map((m) => m.id === withFile.message.id);

for (const socket of [alice, back, carol]) socket.close();
console.log(JSON.stringify(findings));
