// The Node flags the server runs with: `npm start`, the Docker image (NODE_OPTIONS) and the benches
// that time server code (bench/run.js starts them in a child process with these flags). A larger
// young generation halves the scavenges of a receiver that allocates a few KB per span; the SDK and
// CLI benches run without it, as a harness and a shell run them.
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];
