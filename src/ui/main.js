/**
 * The dashboard's entry point: the token box in the header, and the two views by the URL's
 * hash: `#/` the overview (overview.js), `#/groups/NAME` a group's page (group.js). A view is
 * stopped (its timers and stream subscription) before the next is drawn.
 */
import { setToken, token } from './api.js'
import { el } from './dom.js'
import { renderGroup } from './group.js'
import { renderOverview } from './overview.js'

/** Shows whether a token is in use, and wires the box. A change fires `tide-token` on window. */
function tokenBox() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('token-box'))
  const input = /** @type {HTMLInputElement} */ (document.getElementById('token-input'))
  const stateText = /** @type {HTMLElement} */ (document.getElementById('token-state'))
  const forget = /** @type {HTMLButtonElement} */ (document.getElementById('token-forget'))
  const show = () => {
    const has = token() !== ''
    stateText.textContent = has ? 'token in use (this tab)' : 'read-only: no token'
    stateText.dataset.state = has ? 'set' : 'none'
    forget.hidden = !has
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    setToken(input.value.trim())
    input.value = ''
    show()
    window.dispatchEvent(new Event('tide-token'))
  })
  forget.addEventListener('click', () => {
    setToken('')
    show()
    window.dispatchEvent(new Event('tide-token'))
  })
  show()
}

let stop = () => {}

/** Draws the view the hash names. */
function route() {
  stop()
  const view = /** @type {HTMLElement} */ (document.getElementById('view'))
  const crumbs = /** @type {HTMLElement} */ (document.getElementById('crumbs'))
  const m = /^#\/groups\/([^/]+)$/.exec(location.hash)
  if (m?.[1] !== undefined) {
    const name = decodeURIComponent(m[1])
    crumbs.replaceChildren(el('a', { href: '#/', text: 'groups' }), ' / ', el('span', { text: name }))
    document.title = `${name} · tide`
    stop = renderGroup(view, name)
  } else {
    crumbs.replaceChildren(el('span', { text: 'groups' }))
    document.title = 'tide dashboard'
    stop = renderOverview(view)
  }
}

tokenBox()
window.addEventListener('hashchange', route)
route()
