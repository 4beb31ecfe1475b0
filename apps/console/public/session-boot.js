// Starts restoring the tab's session while the app's bundle is still loading and compiling: the app
// (api/client.ts, refreshSession) takes this one answer instead of asking again — refresh tokens are
// single-use. The rotated refresh token is stored as soon as it arrives, so a screen that makes no API
// call (and so never takes the answer) does not leave a spent token behind for the next page.
// Plain script, same origin (the console's CSP allows only 'self'); no personal data.
/* global window */
(function () {
  var KEY = 'alerta-rosa.refresh';
  try {
    var token = window.sessionStorage.getItem(KEY);
    if (!token) return;
    var early = { token: token, rotatedTo: null, response: null };
    early.response = window
      .fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: token }),
      })
      .then(function (res) {
        if (!res.ok) return res;
        return res
          .clone()
          .json()
          .then(function (s) {
            if (window.sessionStorage.getItem(KEY) === token)
              window.sessionStorage.setItem(KEY, s.refreshToken);
            early.rotatedTo = s.refreshToken;
            return res;
          });
      });
    window.__alertaRosaEarlyRefresh = early;
  } catch {
    // No sessionStorage (private mode restrictions): the app restores the session itself.
  }
})();
