/* Fake WeChat JS-SDK 1.6.0 for tests and the sandbox (served by tests/fakewechat/api_jssdk.py
 * at <fake>/open/js/jweixin-1.6.0.js).  Not Tencent's code: a small stand-in that checks
 * wx.config against the fake platform and implements the <wx-open-subscribe> open tag.
 * Protocol: see the docstring of api_jssdk.py. */
(function () {
  "use strict";
  var script = document.currentScript;
  var BASE = window.FAKEWECHAT_URL || (script && script.src ? new URL(script.src).origin : "");
  var state = { status: "idle", session: null, appId: null, readyFns: [], errorFns: [], errorRes: null };

  function post(path, body) {
    // text/plain keeps it a "simple" CORS request (no preflight); the fake answers ACAO: *
    return fetch(BASE + path, {
      method: "POST",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body),
    }).then(function (resp) {
      return resp.json();
    });
  }

  function pageUrl() {
    return location.href.split("#")[0];
  }

  function browserOpenid() {
    if (window.FAKEWECHAT_OPENID) return window.FAKEWECHAT_OPENID;
    var fromQuery = new URLSearchParams(location.search).get("fake_openid");
    if (fromQuery) return fromQuery;
    var cookie = document.cookie.match(/(?:^|;\s*)fakewechat_openid=([^;]+)/);
    return cookie ? decodeURIComponent(cookie[1]) : null;
  }

  function later(opts, res) {
    setTimeout(function () {
      if (opts && typeof opts.success === "function") opts.success(res);
      if (opts && typeof opts.complete === "function") opts.complete(res);
    }, 0);
  }

  function settle(ok, res) {
    state.status = ok ? "ready" : "error";
    state.errorRes = ok ? null : res;
    var fns = ok ? state.readyFns : state.errorFns;
    state.readyFns = [];
    state.errorFns = [];
    fns.forEach(function (fn) {
      ok ? fn() : fn(res);
    });
    document.dispatchEvent(new CustomEvent("fakewechat:config", { detail: res }));
  }

  var wx = {
    config: function (cfg) {
      state.status = "pending";
      state.appId = cfg.appId;
      post("/_fake/jssdk/config", {
        appId: cfg.appId,
        timestamp: String(cfg.timestamp),
        nonceStr: cfg.nonceStr,
        signature: cfg.signature,
        jsApiList: cfg.jsApiList || [],
        openTagList: cfg.openTagList || [],
        url: pageUrl(),
        fake_openid: browserOpenid(),
      }).then(
        function (res) {
          if (res.errMsg === "config:ok") {
            state.session = res.session;
            settle(true, res);
          } else {
            settle(false, { errMsg: res.errMsg });
          }
        },
        function (err) {
          settle(false, { errMsg: "config:fail " + err });
        }
      );
    },
    ready: function (fn) {
      if (state.status === "ready") fn();
      else state.readyFns.push(fn);
    },
    error: function (fn) {
      if (state.status === "error") fn(state.errorRes);
      else state.errorFns.push(fn);
    },
    checkJsApi: function (opts) {
      var result = {};
      ((opts && opts.jsApiList) || []).forEach(function (name) {
        result[name] = typeof wx[name] === "function";
      });
      later(opts, { checkResult: result, errMsg: "checkJsApi:ok" });
    },
  };
  ["hideMenuItems", "showMenuItems", "hideAllNonBaseMenuItem", "closeWindow",
   "updateAppMessageShareData", "updateTimelineShareData"].forEach(function (name) {
    wx[name] = function (opts) {
      later(opts, { errMsg: name + ":ok" });
    };
  });
  function callApi(api, args, opts) {
    function answer(res) {
      var ok = res.errMsg === api + ":ok";
      var cancelled = res.errMsg === api + ":cancel";
      if (ok && opts && typeof opts.success === "function") opts.success(res);
      if (cancelled && opts && typeof opts.cancel === "function") opts.cancel(res);
      if (!ok && !cancelled && opts && typeof opts.fail === "function") opts.fail(res);
      if (opts && typeof opts.complete === "function") opts.complete(res);
    }
    if (state.status !== "ready") {
      setTimeout(answer.bind(null, { errMsg: api + ":fail wx.config has not succeeded (fake)" }), 0);
      return;
    }
    post("/_fake/jssdk/call", { session: state.session, appId: state.appId, api: api, args: args }).then(
      answer,
      function (err) {
        answer({ errMsg: api + ":fail " + err });
      }
    );
  }
  wx.getLocation = function (opts) {
    callApi("getLocation", { type: (opts && opts.type) || "wgs84" }, opts);
  };
  wx.openLocation = function (opts) {
    var args = {};
    ["latitude", "longitude", "name", "address", "scale", "infoUrl"].forEach(function (key) {
      if (opts && opts[key] !== undefined) args[key] = opts[key];
    });
    state.openedLocation = args; // for tours: what the map was opened on
    callApi("openLocation", args, opts);
  };
  // WeChat Pay JSAPI: timestamp in lower case here (the paySign covers it as timeStamp)
  wx.chooseWXPay = function (opts) {
    var args = {};
    ["timestamp", "timeStamp", "nonceStr", "package", "signType", "paySign"].forEach(function (key) {
      if (opts && opts[key] !== undefined && opts[key] !== null) args[key] = String(opts[key]);
    });
    var choice = window.FAKEWECHAT_PAY_CHOICE; // "cancel" or "fail": the user does not pay
    if (choice) args.choice = choice;
    state.lastPay = args; // for tours: what the page asked to pay
    callApi("chooseWXPay", args, opts);
  };
  wx.__fake = state; // for tours: wx.__fake.status is idle | pending | ready | error
  window.wx = window.jWeixin = wx;

  class OpenSubscribe extends HTMLElement {
    connectedCallback() {
      if (this._fakeConnected) return;
      this._fakeConnected = true;
      this.addEventListener("click", this._fakeClick.bind(this));
      // while the page is parsing, the element's children (its template) are not there yet
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", this._fakeRender.bind(this));
      } else {
        this._fakeRender();
      }
    }

    _fakeRender() {
      var tpl = this.querySelector('script[type="text/wxtag-template"]:not([slot="style"])');
      var holder = document.createElement("span");
      holder.className = "fakewechat-open-subscribe";
      holder.innerHTML = tpl ? tpl.textContent : '<button type="button">订阅通知</button>';
      this.appendChild(holder);
    }

    _fakeEmit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail: detail }));
    }

    _fakeClick() {
      var self = this;
      if (state.status !== "ready") {
        self._fakeEmit("error", { errCode: -1, errMsg: "subscribe:fail wx.config has not succeeded (fake)" });
        return;
      }
      var ids = (self.getAttribute("template") || "").split(",").map(function (s) {
        return s.trim();
      }).filter(Boolean);
      post("/_fake/jssdk/subscribe", {
        session: state.session,
        appId: state.appId,
        templates: ids,
        url: pageUrl(),
        choice: self.getAttribute("data-fake-choice") || window.FAKEWECHAT_SUBSCRIBE_CHOICE || "accept",
      }).then(
        function (res) {
          if (res.errMsg === "subscribe:ok") {
            self._fakeEmit("success", { errMsg: res.errMsg, subscribeDetails: res.subscribeDetails });
          } else {
            self._fakeEmit("error", { errCode: res.errCode, errMsg: res.errMsg });
          }
        },
        function (err) {
          self._fakeEmit("error", { errCode: 10002, errMsg: "subscribe:fail " + err });
        }
      );
    }
  }
  if (window.customElements && !window.customElements.get("wx-open-subscribe")) {
    window.customElements.define("wx-open-subscribe", OpenSubscribe);
  }
})();
