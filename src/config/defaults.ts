// The embedded development config used by `vmq start` without -c: everything on
// loopback, anonymous clients allowed (with a warning), no auth plugins.
export const DEV_CONFIG_NAME = '<embedded development config>'

export const DEV_CONFIG = `
allow_anonymous = on
plugins.vmq_passwd = off
plugins.vmq_acl = off
listener.tcp.default = 127.0.0.1:1883
listener.ws.default = 127.0.0.1:8080
listener.http.default = 127.0.0.1:8888
listener.vmq.clustering = 127.0.0.1:44053
persistent_dir = ./data
`

/** Listeners added when a config file defines none of their kind. */
export const IMPLICIT_LISTENERS = {
  mqtt: { key: 'tcp.default', address: '127.0.0.1:1883' },
  cluster: { key: 'vmq.clustering', address: '127.0.0.1:44053' }
}
