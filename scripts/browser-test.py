#!/usr/bin/env python3
"""Drives Debian's Chromium (headless) through the regulator's workflow on a running `sas demo`.

Chrome DevTools Protocol over --remote-debugging-pipe (file descriptors 3 and 4, NUL-separated JSON), so that
nothing but the Python standard library is needed. Steps, each with a screenshot under OUT_DIR:
  1. log in through the Pro Santé Connect stand-in (test card of Dr Claire MARTIN, the demo regulator);
  2. search "médecin généraliste" at a Lyon address; slots stream in; slots from at least two vendors;
     the banner names the vendor made to fail; the time to the first slot on screen is read from the
     Performance API;
  3. open a vendor slot: a new tab lands on the vendor's booking page with origin=sas, logged in by SSO; book
     there: the vendor reports the appointment to the platform (INT_R03);
  4. book a SAS-agenda slot;
  5. "Mes orientations" lists both orientations, the vendor's confirmed by INT_R03; the SAS-agenda one is
     cancelled with its "Annuler" button; both, and the cancellation, are acknowledged by the SAMU (INT_L02);
  6. in a separate browser context, the demo's national administrator logs in with his password (environment
     variable SAS_DEMO_ADMIN_PASSWORD) and finds the orientations and the vendor's appointment in the activity
     figures (SVG charts), and the regulator's account synchronised at the INT_R02 vendors;
  7. in the vendor console he registers a vendor, suspends and reactivates it, and runs the conformance check
     against a demo vendor from its page: the report says "conforme".
Prints a JSON summary on the last line; exits non-zero on the first failed check.

Usage: SAS_DEMO_ADMIN_PASSWORD=… browser-test.py BASE_URL OUT_DIR FAILING_VENDOR_NAME
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import base64

BASE, OUT, FAILING = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(OUT, exist_ok=True)
ADDRESS = "20 rue de la République 69002 Lyon"


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="sas-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire():
            # Move the pipe ends to 3 (commands in) and 4 (answers out), where Chromium expects them.
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            raise SystemExit("chromium not found")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--ignore-certificate-errors", "--remote-debugging-pipe", "--no-first-run",
             "--window-size=1280,720", "--user-data-dir=" + self.profile, "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []

    def send(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            for reply in self.read():
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)
        raise TimeoutError(method)

    def read(self):
        chunk = os.read(self.from_chrome, 1 << 20)
        if not chunk:
            raise RuntimeError("chromium closed the pipe")
        self.buffer += chunk
        messages = []
        while b"\0" in self.buffer:
            raw, self.buffer = self.buffer.split(b"\0", 1)
            messages.append(json.loads(raw))
        return messages

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser, target_id):
        self.browser = browser
        self.target = target_id
        self.session = browser.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method, params=None, timeout=30):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression):
        # userGesture: clicks count as the user's, as they would with a mouse (a new tab may open).
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True,
                                                "userGesture": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url):
        self.send("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && location.href !== 'about:blank'")

    def wait(self, condition, timeout=30, what=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(f"!!({condition})"):
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        self.screenshot("echec")
        raise AssertionError(f"timed out waiting for {what or condition}")

    def click(self, selector):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, name):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        with open(os.path.join(OUT, f"{name}.png"), "wb") as f:
            f.write(base64.b64decode(data))


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    browser = Browser()
    summary = {}
    try:
        browser.send("Target.setDiscoverTargets", {"discover": True})
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        page = Page(browser, target)

        # 1. Login through Pro Santé Connect: the platform, then the stand-in's card page, then back.
        page.goto(BASE + "/connexion?retour=/recherche")
        page.screenshot("01-connexion")
        page.click("a.psc")
        page.wait("location.pathname === '/auth' && document.querySelector('button[name=professionnel]')", what="PSC card page")
        page.screenshot("02-pro-sante-connect")
        page.evaluate("Array.from(document.querySelectorAll('button[name=professionnel]')).find(b => b.textContent.includes('MARTIN')).click()")
        page.wait(f"location.href.startsWith({json.dumps(BASE + '/recherche')}) && document.readyState === 'complete'", what="back on the search page")
        check("Claire Martin" in page.evaluate("document.querySelector('header').textContent"), "not logged in as the demo regulator")

        # 2. Search; results stream in.
        page.evaluate(f"""(() => {{
            document.getElementById('what').value = 'médecin généraliste';
            document.getElementById('where').value = {json.dumps(ADDRESS)};
            document.getElementById('form-recherche').requestSubmit();
        }})()""")
        page.wait("document.querySelector('#filtres') && !document.querySelector('#filtres').hidden", timeout=30, what="final results")
        page.screenshot("03-resultats")
        sources = page.evaluate("Array.from(new Set(Array.from(document.querySelectorAll('#resultats button.creneau[data-source]')).map(b => b.dataset.source)))")
        vendors = [s for s in sources if s != "sas"]
        summary["vendors_with_slots"] = vendors
        check(len(vendors) >= 2, f"slots from fewer than two vendors: {sources}")
        check("sas" in sources, f"no SAS-agenda slot on screen: {sources}")
        banner = page.evaluate("document.getElementById('bandeau').textContent")
        summary["banner"] = banner
        check(FAILING in banner, f"no banner for {FAILING}: {banner!r}")
        first = page.evaluate("(performance.getEntriesByName('delai-premier-creneau')[0] || {}).duration")
        check(first is not None, "the time to the first slot was not measured")
        summary["first_slot_ms"] = round(first, 1)
        summary["offers"] = page.evaluate("document.querySelectorAll('#resultats article.offre').length")
        check(page.evaluate("document.querySelectorAll('#carte circle').length") > 2, "no plot of the results")
        # Keyboard: j moves the focus to the next slot.
        before = page.evaluate("document.activeElement && document.activeElement.className")
        check(before == "creneau", f"the first slot is not focused after the search ({before})")
        page.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "j", "text": "j"})
        page.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "j"})

        # 3. A vendor slot opens the vendor's booking page in a new tab, with origin=sas, logged in by SSO.
        known = {t["targetId"] for t in browser.send("Target.getTargets")["targetInfos"]}
        page.evaluate("document.querySelector('#resultats button.creneau[data-url*=\"/rdv/\"]').click()")
        deadline = time.time() + 20
        vendor_target = None
        while time.time() < deadline and not vendor_target:
            for info in browser.send("Target.getTargets")["targetInfos"]:
                if info["type"] == "page" and info["targetId"] not in known and "origin=sas" in info.get("url", ""):
                    vendor_target = info
            time.sleep(0.1)
        if vendor_target is None:
            page.screenshot("echec-onglet")
            notice = page.evaluate("(document.getElementById('notification') || {}).textContent")
            urls = [t.get("url") for t in browser.send("Target.getTargets")["targetInfos"]]
            raise AssertionError(f"no vendor tab with origin=sas (notification: {notice!r}, tabs: {urls})")
        vendor = Page(browser, vendor_target["targetId"])
        vendor.wait("document.readyState === 'complete' && document.body && document.body.textContent.includes('Connecté·e en tant que régulateur SAS')",
                    timeout=30, what="vendor booking page logged in by SSO")
        summary["vendor_page"] = vendor.evaluate("location.href")
        check(("/rdv/" in summary["vendor_page"] or "/sos/" in summary["vendor_page"]) and "origin=sas" in summary["vendor_page"], summary["vendor_page"])
        vendor.screenshot("04-page-editeur")
        # Book on the vendor's page the slot chosen in the SAS (marked aria-current from `creneau=`; the page lists
        # a site's slots before the next site's, so its first button may be a day away from the orientation's slot
        # and INT_R03 would then, rightly, not match it): the sandbox vendor reports it to the platform at once.
        check(vendor.evaluate("!!document.querySelector('ul.creneaux li[aria-current] button')"),
              "the slot chosen in the SAS is not marked on the vendor's page")
        vendor.evaluate("document.querySelector('ul.creneaux li[aria-current] button').click()")
        vendor.wait("document.body && document.body.textContent.includes('Rendez-vous confirmé')", what="vendor booking confirmed")
        summary["int_r03"] = vendor.evaluate("(document.querySelector('.int-r03') || {}).textContent || ''")
        check("transmis à la plateforme SAS" in summary["int_r03"], f"the vendor did not report the booking: {summary['int_r03']!r}")
        vendor.screenshot("04b-reservation-editeur")
        browser.send("Target.activateTarget", {"targetId": target})

        # 4. A SAS-agenda slot is booked in the platform.
        page.evaluate("document.querySelector('#resultats button.creneau[data-source=sas]').click()")
        page.wait("document.getElementById('notification') && document.getElementById('notification').className === 'confirmation' && document.getElementById('notification').textContent.includes('agenda SAS')",
                  what="SAS-agenda booking confirmed")
        page.screenshot("05-reservation-agenda")

        # 5. Both orientations in "Mes orientations".
        page.goto(BASE + "/orientations")
        rows = page.evaluate("Array.from(document.querySelectorAll('tr[data-orientation]')).map(r => r.textContent.replace(/\\s+/g, ' ').trim())")
        summary["orientations"] = rows
        check(any("Créneau éditeur" in r and "Rendez-vous pris" in r for r in rows),
              f"the vendor booking (INT_R03) did not confirm the orientation: {rows}")
        check(any("Agenda SAS" in r and "Rendez-vous pris" in r for r in rows), f"no SAS-agenda booking: {rows}")
        page.screenshot("06-mes-orientations")
        # The SAS-agenda orientation is cancelled from the list (a plain form, no script).
        page.evaluate("Array.from(document.querySelectorAll('tr[data-orientation]')).find(r => r.textContent.includes('Agenda SAS') && r.querySelector('form button')).querySelector('form button').click()")
        page.wait("location.pathname === '/orientations' && document.readyState === 'complete' && document.body.textContent.includes('annulé')",
                  what="orientation cancelled")
        rows = page.evaluate("Array.from(document.querySelectorAll('tr[data-orientation]')).map(r => r.textContent.replace(/\\s+/g, ' ').trim())")
        check(any("Agenda SAS" in r and "Annulé" in r for r in rows), f"the SAS-agenda orientation was not cancelled: {rows}")
        # INT_L02: each orientation and its changes reach the SAMU of the regulator's territory (the demo's Hub
        # stand-in and its simulated LRM acknowledge them).
        states = []
        for _ in range(30):
            page.goto(BASE + "/orientations")
            states = page.evaluate("Array.from(document.querySelectorAll('td[data-lrm]')).map(c => c.dataset.lrm)")
            if states and all(state == "recu" for state in states):
                break
            time.sleep(0.5)
        summary["int_l02"] = states
        check(states and all(state == "recu" for state in states), f"orientations not acknowledged by the SAMU: {states}")
        page.screenshot("07-orientation-annulee")

        # 6. The national administrator, in his own browser context: activity figures and INT_R02 states.
        password = os.environ.get("SAS_DEMO_ADMIN_PASSWORD")
        check(password, "SAS_DEMO_ADMIN_PASSWORD is not set")
        context = browser.send("Target.createBrowserContext")["browserContextId"]
        admin_target = browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        admin = Page(browser, admin_target)
        admin.goto(BASE + "/connexion?retour=/activite")
        admin.evaluate(f"""(() => {{
            document.getElementById('email').value = 'admin@demo.sas.localhost';
            document.getElementById('password').value = {json.dumps(password)};
            document.querySelector('form[action="/connexion"]').submit();
        }})()""")
        admin.wait("location.pathname === '/activite' && document.readyState === 'complete'", what="activity page")
        figures = admin.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('[data-chiffre]')).map(e => [e.dataset.chiffre, e.textContent.trim()]))")
        summary["activity"] = figures
        check(int(figures.get("orientations", "0")) >= 2, f"orientations missing from the figures: {figures}")
        check(int(figures.get("rendez-vous", "0")) >= 1, f"the vendor's appointment is missing from the figures: {figures}")
        vendors = admin.evaluate("Array.from(document.querySelectorAll('#rdv-editeurs tr')).map(r => r.textContent.replace(/\\s+/g, ' ').trim())")
        check(len(vendors) >= 1, f"no appointment per vendor: {vendors}")
        check(admin.evaluate("document.querySelectorAll('figure svg rect').length") > 0, "no bar in the SVG charts")
        admin.screenshot("08-activite")
        admin.goto(BASE + "/admin/comptes-editeurs")
        synced = admin.evaluate("Array.from(document.querySelectorAll('tr[data-etat=synced]')).map(r => r.textContent.replace(/\\s+/g, ' ').trim())")
        summary["int_r02"] = synced
        check(any("regulateur@demo.sas.localhost" in r for r in synced), f"the regulator's account is not synchronised at the vendors: {synced}")
        admin.screenshot("09-comptes-editeurs")

        # 7. The vendor console: register a vendor, suspend it, reactivate it; run the conformance check on a demo
        #    vendor from its page and read the verdict.
        admin.goto(BASE + "/admin/editeurs")
        admin.evaluate("""(() => {
            const f = document.getElementById('form-editeur');
            f.querySelector('#id').value = 'editeur-essai';
            f.querySelector('#nom').value = 'Éditeur à l\\'essai';
            f.querySelector('#environnement').value = 'recette';
            f.querySelector('#url').value = 'https://127.0.0.1:9/fhir';
            f.querySelector('input[name=flux_r01]').checked = true;
            f.querySelector('#etat').value = 'cadrage';
            f.submit();
        })()""")
        admin.wait("location.pathname === '/admin/editeurs/editeur-essai' && document.readyState === 'complete'", what="vendor registered")
        check(admin.evaluate("document.querySelector('[data-etat]').dataset.etat") == "cadrage", "the new vendor is not at the cadrage step")
        admin.screenshot("10-editeur-enregistre")
        admin.evaluate("""(() => {
            const f = document.getElementById('form-suspendre');
            f.querySelector('input[name=note]').value = 'Essai de suspension';
            f.submit();
        })()""")
        admin.wait("document.readyState === 'complete' && document.getElementById('form-reactiver') !== null", what="vendor suspended")
        check(admin.evaluate("document.querySelector('[data-etat]').dataset.etat") == "suspendu", "the vendor is not suspended")
        check("Essai de suspension" in admin.evaluate("document.getElementById('historique').textContent"), "the suspension note is not in the history")
        admin.screenshot("11-editeur-suspendu")
        admin.evaluate("document.getElementById('form-reactiver').submit()")
        admin.wait("document.readyState === 'complete' && document.getElementById('form-suspendre') !== null", what="vendor reactivated")
        check(admin.evaluate("document.querySelector('[data-etat]').dataset.etat") == "cadrage", "reactivation did not restore the cadrage step")
        admin.goto(BASE + "/admin/editeurs")
        listed = admin.evaluate("Array.from(document.querySelectorAll('#editeurs tr[data-editeur]')).map(r => r.dataset.editeur + ':' + r.dataset.etat)")
        summary["vendors"] = listed
        check("editeur-essai:cadrage" in listed, f"the vendor list does not show the new vendor: {listed}")
        admin.goto(BASE + "/admin/editeurs/agendaplus")
        admin.evaluate("document.getElementById('form-controle').submit()")
        admin.wait("location.pathname.includes('/conformite/') && document.getElementById('verdict') !== null", timeout=120,
                   what="conformance report")
        verdict = admin.evaluate("document.getElementById('verdict').dataset.verdict + ' — ' + document.getElementById('verdict').textContent.trim()")
        summary["conformance"] = verdict
        failed = admin.evaluate("Array.from(document.querySelectorAll('table.conformite tr.ko td:first-child')).map(c => c.textContent)")
        check(verdict.startswith("conforme"), f"the demo vendor is not conforming: {verdict} {failed}")
        admin.screenshot("12-controle-conformite")

        # 8. The demo practitioner (Dr Anne Roux, Lyon 3e, no booking vendor), in a browser context of her own, adds a
        #    SAS-agenda slot for tomorrow 07:10 from the week grid with the keyboard; the regulator then finds it.
        doctor_password = os.environ.get("SAS_DEMO_DOCTOR_PASSWORD")
        check(doctor_password, "SAS_DEMO_DOCTOR_PASSWORD is not set")
        doctor_context = browser.send("Target.createBrowserContext")["browserContextId"]
        doctor = Page(browser, browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": doctor_context})["targetId"])
        doctor.goto(BASE + "/connexion?retour=/espace")
        doctor.evaluate(f"""(() => {{
            document.getElementById('email').value = 'medecin@demo.sas.localhost';
            document.getElementById('password').value = {json.dumps(doctor_password)};
            document.querySelector('form[action="/connexion"]').submit();
        }})()""")
        doctor.wait("location.pathname.startsWith('/espace/agenda/ps/') && document.querySelector('table.semaine')", what="the practitioner's week")
        doctor_idnps = doctor.evaluate("location.pathname.split('/').pop()")
        tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
        # Show tomorrow's week, focus the grid and move with the arrow keys to tomorrow 07:00, then Enter.
        doctor.goto(BASE + doctor.evaluate("location.pathname") + "?semaine=" + tomorrow)
        doctor.evaluate("document.querySelector('table.semaine td[tabindex=\"0\"]').focus()")
        def key(name):
            doctor.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": name, "code": name, "windowsVirtualKeyCode": {"ArrowUp": 38, "ArrowDown": 40, "ArrowLeft": 37, "ArrowRight": 39, "Enter": 13}[name]})
            doctor.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": name, "code": name})
        for _ in range(8):
            key("ArrowLeft")
        for _ in range(20):
            key("ArrowUp")
        column = doctor.evaluate(f"Array.from(document.querySelectorAll('table.semaine thead th[data-jour]')).findIndex(th => th.dataset.jour === {json.dumps(tomorrow)})")
        check(column >= 0, f"tomorrow {tomorrow} is not in the shown week")
        for _ in range(column):
            key("ArrowRight")
        key("ArrowDown")  # 06:00 → 07:00
        key("Enter")
        filled = doctor.evaluate("[document.getElementById('jour').value, document.getElementById('debut').value, document.activeElement.id]")
        check(filled == [tomorrow, "07:00", "debut"], f"the keyboard did not prepare the form: {filled}")
        doctor.evaluate("""(() => {
            document.getElementById('debut').value = '07:10';
            document.getElementById('fin').value = '07:25';
            document.getElementById('form-creneau').submit();
        })()""")
        doctor.wait("document.readyState === 'complete' && document.querySelector('p.confirmation') !== null", what="slot added")
        check("visible des régulateurs" in doctor.evaluate("document.querySelector('p.confirmation').textContent"), "no confirmation of the new slot")
        check(doctor.evaluate("Array.from(document.querySelectorAll('a.occurrence')).some(a => a.textContent.includes('07:10'))"), "the new slot is not in the week grid")
        doctor.screenshot("13-agenda-professionnel")
        summary["agenda_slot"] = tomorrow + " 07:10"
        # The regulator searches with Dr Roux as médecin traitant: her card comes first, with tomorrow's 07:10 slot.
        page.goto(BASE + "/recherche")
        page.evaluate(f"""(() => {{
            document.getElementById('what').value = 'médecin généraliste';
            document.getElementById('where').value = {json.dumps(ADDRESS)};
            document.getElementById('medecin').value = {json.dumps(doctor_idnps)};
            document.getElementById('form-recherche').requestSubmit();
        }})()""")
        page.wait("document.querySelector('#filtres') && !document.querySelector('#filtres').hidden", timeout=30, what="results with the médecin traitant")
        found = page.evaluate("""(() => {
            const card = Array.from(document.querySelectorAll('#resultats article.offre')).find(a => a.textContent.includes('Anne ROUX'));
            if (!card) return 'no card';
            const slot = Array.from(card.querySelectorAll('button.creneau[data-source=sas]')).find(b => b.textContent.startsWith('07:10'));
            return slot ? 'ok' : 'no slot: ' + card.textContent.replace(/\\s+/g, ' ').slice(0, 300);
        })()""")
        page.screenshot("14-regulateur-trouve-le-creneau")
        check(found == "ok", f"the regulator does not find the practitioner's new slot: {found}")
    finally:
        browser.close()
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
