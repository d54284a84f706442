// Entry of the admin console bundle (scripts/build-ui.mjs builds every src/ui/<name>/main.ts into dist/ui/<name>).
import { h, render } from 'preact';
import { App } from './app.js';

render(h(App, null), document.getElementById('app')!);
