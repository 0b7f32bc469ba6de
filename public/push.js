// Browser push for the dashboard: subscribes this browser through Handoff's service worker
// (/sw.js) with the server's VAPID key. The WASM app calls window.handoffPush.* and hands the
// subscription to the server. Every failure is an Error with a message for the user.
'use strict';
(function () {
  function keyBytes(base64url) {
    const padded = (base64url + '===='.slice((base64url.length + 3) % 4)).replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(padded);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(a, b) {
    if (!a) return false;
    const x = new Uint8Array(a);
    return x.length === b.length && x.every((v, i) => v === b[i]);
  }

  function supported() {
    return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  }

  async function registration() {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    return navigator.serviceWorker.ready;
  }

  window.handoffPush = {
    supported,

    // 'granted' | 'denied' | 'default' | 'unsupported'
    permission() {
      return supported() ? Notification.permission : 'unsupported';
    },

    // Asks for permission if needed, subscribes, and returns {endpoint, p256dh, auth}.
    async enable(publicKey) {
      if (!supported()) throw new Error('This browser cannot receive push notifications.');
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        throw new Error('Notifications are blocked for this site: allow them in the browser\'s site settings, then try again.');
      }
      const reg = await registration();
      const key = keyBytes(publicKey);
      let sub = await reg.pushManager.getSubscription();
      if (sub && !sameKey(sub.options.applicationServerKey, key)) {
        await sub.unsubscribe();
        sub = null;
      }
      if (!sub) {
        try {
          const timeout = new Promise((_, reject) =>
            setTimeout(() => reject(new Error('no answer within 10 s')), 10000));
          sub = await Promise.race([
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
            timeout,
          ]);
        } catch (e) {
          throw new Error('The browser\'s push service could not be reached (' + (e && e.message ? e.message : e) + ').');
        }
      }
      const json = sub.toJSON();
      return { endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth };
    },

    // Unsubscribes this browser; returns the endpoint it had (or null).
    async disable() {
      if (!supported()) return null;
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg ? await reg.pushManager.getSubscription() : null;
      if (!sub) return null;
      const endpoint = sub.endpoint;
      await sub.unsubscribe();
      return endpoint;
    },
  };
})();
