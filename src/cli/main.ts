#!/usr/bin/env node
import { exitWhenFlushed } from './exit.js';
import { main } from './program.js';

await exitWhenFlushed(await main(process.argv));
