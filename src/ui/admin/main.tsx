// Entry of the admin console bundle (built by scripts/build-ui.mjs into dist/ui/admin).
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
