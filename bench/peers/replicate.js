// The catch-up benchmark's Node.js peer: hypercore 10 replicating COUNT x SIZE-byte entries
// between two in-memory cores (random-access-memory) in one process, every block verified by
// the reader (Merkle proofs against the writer's signed tree). Prints one line of JSON.
'use strict'

const Hypercore = require('hypercore')
const RAM = require('random-access-memory')

const COUNT = Number(process.argv[2] || 100000)
const SIZE = Number(process.argv[3] || 200)
const BATCH = 1000

async function main () {
  const writer = new Hypercore(() => new RAM())
  await writer.ready()
  for (let start = 0; start < COUNT; start += BATCH) {
    const blocks = []
    for (let i = start; i < Math.min(start + BATCH, COUNT); i++) {
      const block = Buffer.alloc(SIZE, i % 251)
      block.writeUInt32BE(i, 0)
      blocks.push(block)
    }
    await writer.append(blocks)
  }

  const reader = new Hypercore(() => new RAM(), writer.key)
  await reader.ready()
  const started = process.hrtime.bigint()
  const left = writer.replicate(true)
  const right = reader.replicate(false)
  left.pipe(right).pipe(left)
  await reader.download({ start: 0, end: COUNT }).done()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9

  if (reader.contiguousLength !== COUNT) {
    throw new Error(`replicated ${reader.contiguousLength} of ${COUNT}`)
  }
  const last = await reader.get(COUNT - 1)
  if (last.readUInt32BE(0) !== COUNT - 1) throw new Error('the last block differs')

  console.log(JSON.stringify({
    entries: COUNT,
    size: SIZE,
    seconds,
    entries_per_s: COUNT / seconds,
    hypercore: require('hypercore/package.json').version,
    node: process.version
  }))
  left.destroy()
  right.destroy()
  await reader.close()
  await writer.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
